package dev.thaw.qemu.postcopy.impl;

import dev.thaw.format.qemu.MigrationStream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Each record byte for byte as docs/qemu-postcopy.md shows QEMU 10.0.2's (captured) or the sketch source's (verified). */
class StreamWriterTest {

    /** The pc machine's blocks at 64 MiB, as the captures list them. */
    static final List<SourceBlock> PC_BLOCKS = blocks("pc.ram", 0x4000000, "/rom@etc/acpi/tables", 0x20000, "pc.bios", 0x40000,
            "pc.rom", 0x20000, "/rom@etc/table-loader", 0x1000, "/rom@etc/acpi/rsdp", 0x1000);

    @Test
    void theHeaderConfigurationAndCommandsBeforeTheRamSectionAreQemusOwn() {
        // section 1, @0x0 to @0x3e
        byte[] expected = Hex.of("""
                5145564d 00000003
                07 0000000e "pc-i440fx-10.0"
                08 0001 0000
                08 0002 0004 00000001
                08 0003 0010 0000000000001000 0000000000001000
                """);
        StreamWriter w = new StreamWriter(16).header().configuration("pc-i440fx-10.0", List.of(), Optional.empty())
                .openReturnPath().ping(1).postcopyAdvise();
        assertArrayEquals(expected, Hex.of(w.bytes()));
        assertEquals(0x3e, w.size());
    }

    @Test
    void theRamStartListsEachBlockWithItsUsedLengthAndNoMappedRamHeader() {
        // section 1, @0x3e to @0xe8
        byte[] expected = Hex.of("""
                01 00000001 03"ram" 00000000 00000004
                0000000004082004
                06"pc.ram" 0000000004000000
                14"/rom@etc/acpi/tables" 0000000000020000
                07"pc.bios" 0000000000040000
                06"pc.rom" 0000000000020000
                15"/rom@etc/table-loader" 0000000000001000
                12"/rom@etc/acpi/rsdp" 0000000000001000
                0000000000000010
                7e 00000001
                """);
        assertArrayEquals(expected, Hex.of(new StreamWriter(16).ramStart(1, PC_BLOCKS).bytes()));
        assertEquals(0xe8 - 0x3e, expected.length);
    }

    @Test
    void aWholeBlockDiscardIsVersionNameNulStartAndLength() {
        // section 2, @0xe8 to @0x106
        assertArrayEquals(Hex.of("08 0006 0019 00 06\"pc.ram\" 00 0000000000000000 0000000004000000"),
                Hex.of(new StreamWriter(16).discard(PC_BLOCKS.getFirst(), 0, 0x4000000).bytes()));
        // section 1: the ranges QEMU sent for re-dirtied pages have the same form, one range per command here
        assertArrayEquals(Hex.of("08 0006 0019 00 06\"pc.ram\" 00 00000000000e8000 0000000000001000"),
                Hex.of(new StreamWriter(16).discard(PC_BLOCKS.getFirst(), 0xe8000, 0x1000).bytes()));
    }

    @Test
    void thePackageIsItsLengthThenListenTheDevicesPingAndRunAtTheOffsetsOfSectionTwo() {
        byte[] devices = new byte[12888]; // the pc file's 30 device sections are this long
        devices[0] = MigrationStream.SECTION_FULL;
        StreamWriter w = new StreamWriter(16).header().configuration("pc-i440fx-10.0", List.of(), Optional.empty())
                .openReturnPath().ping(1).postcopyAdvise().ramStart(1, PC_BLOCKS);
        for (SourceBlock b : PC_BLOCKS) {
            w.discard(b, 0, b.usedLength());
        }
        assertEquals(0x1c6, w.size(), "the package's offset");
        ByteBuffer nested = new StreamWriter(16).postcopyListen().raw(devices).ping(3).postcopyRun().bytes();
        byte[] stream = Hex.of(w.packaged(nested).bytes());
        assertArrayEquals(Hex.of("08 0007 0004 0000326b"), Arrays.copyOfRange(stream, 0x1c6, 0x1cf));
        assertArrayEquals(Hex.of("08 0004 0000"), Arrays.copyOfRange(stream, 0x1cf, 0x1d4));
        assertArrayEquals(devices, Arrays.copyOfRange(stream, 0x1d4, 0x1d4 + devices.length));
        assertArrayEquals(Hex.of("08 0002 0004 00000003 08 0005 0000"), Arrays.copyOfRange(stream, 0x342c, 0x343a));
        assertEquals(0x343a, stream.length, "the first RAM PART follows at @0x343a");
    }

    @Test
    void theEndIsRamEndWithEosOnlyThenEof() {
        // section 1, @0x9c980 to the end
        assertArrayEquals(Hex.of("03 00000001 0000000000000010 7e 00000001 00"), Hex.of(Preamble.end(1)));
    }

    @Test
    void capabilitiesAndTheUuidGoInSubsectionsInQemusOrder() {
        UUID uuid = UUID.fromString("01234567-89ab-cdef-0011-223344556677");
        byte[] expected = Hex.of("""
                07 00000007 "microvm"
                05 1a "configuration/capabilities" 00000001 00000001 0f "x-ignore-shared"
                05 12 "configuration/uuid" 00000001 0123456789abcdef0011223344556677
                """);
        assertArrayEquals(expected, Hex.of(new StreamWriter(16).configuration("microvm", List.of("x-ignore-shared"),
                Optional.of(uuid)).bytes()));
    }

    static List<SourceBlock> blocks(Object... nameAndLength) {
        List<SourceBlock> list = new java.util.ArrayList<>();
        long first = 0;
        for (int i = 0; i < nameAndLength.length; i += 2) {
            SourceBlock b = new SourceBlock(i / 2, (String) nameAndLength[i], ((Number) nameAndLength[i + 1]).longValue(), first);
            list.add(b);
            first += b.pages();
        }
        return List.copyOf(list);
    }
}
