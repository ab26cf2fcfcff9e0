package dev.thaw.format.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.SnapshotDevice;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.MigrationStream;
import dev.thaw.format.qemu.QemuMigrationFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A device section's length is known only to its device, so the reader finds its end by the footer, 0x7e and
 * the section's id. Those five bytes can also be a register's value: here they are planted in the vCPU's RCX
 * (any u64 is a register value QEMU loads) of files QEMU wrote, followed by a zero, which the walk once took for
 * the stream's EOF byte. Such a file opens as the original does; device sections the VMDESCRIPTION does not
 * list are refused in one line, and a section full of false footers is walked in one scan.
 */
class DeviceSectionWalkTest {

    @TempDir
    Path dir;

    private final QemuMappedRamFormat format = new QemuMappedRamFormat();

    @ParameterizedTest
    @ValueSource(strings = {"qemu-microvm.mr", "qemu-pc.mr", "qemu-q35.mr"})
    void aFooterInsideADevicesStateDoesNotEndItsSection(String sample) throws Exception {
        Path original = Samples.write(sample, dir);
        Path planted = plantFooterInRcx(original, "planted-" + sample);
        assertSameDevices(original, planted);
    }

    @Test
    void withoutADescriptionTheSectionAfterTheFooterMustBePlausible() throws Exception {
        Path original = withoutDescription(Samples.write("qemu-pc.mr", dir), "undescribed.mr");
        Path planted = plantFooterInRcx(original, "undescribed-planted.mr");
        assertSameDevices(original, planted);
    }

    @Test
    void aDeviceSectionTheDescriptionDoesNotListIsRefused() throws Exception {
        Path file = Samples.write("qemu-microvm.mr", dir);
        long version = cpuSection(Files.readAllBytes(file)) + 1 + 4 + 1 + 3 + 4; // FULL, id, "cpu", instance
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, 99), version);
        }
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(file).close());
        assertTrue(e.getMessage().matches(".*: device section \\d+ is 'cpu' \\(instance 0, version 99\\), the "
                + "VMDESCRIPTION lists 'cpu' \\(instance 0, version \\d+\\)"), e.getMessage());
    }

    @Test
    void aDescriptionListingFewerDevicesThanTheStreamIsRefused() throws Exception {
        Path file = Samples.write("qemu-microvm.mr", dir);
        describe(file, "{\"devices\": [{\"name\": \"timer\", \"instance_id\": 0, \"version\": 2}]}");
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(file).close());
        assertTrue(e.getMessage().matches(".*: the stream has \\d+ device sections, its VMDESCRIPTION lists 1"),
                e.getMessage());
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // about 2 s; 45 s when each candidate rereads
    void aSectionFullOfFalseFootersIsWalkedInOneScan() throws Exception {
        byte[] candidate = {(byte) MigrationStream.FOOTER, 0, 0, 0, 100, 0, 0, 0}; // each followed by a zero, not EOF
        Path closed = falseFooters("closed.mr", 32 << 20, candidate, true);
        try (SnapshotReader r = format.open(closed)) {
            assertEquals(List.of(new SnapshotDevice("dev", 0, 1)), r.origin().devices());
        }
        Path open = falseFooters("open.mr", 32 << 20, candidate, false);
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(open).close());
        assertTrue(e.getMessage().matches(".*: device section 'dev' at byte \\d+ has no footer \\(the file ends, or is "
                + "damaged\\)"), e.getMessage());
    }

    private void assertSameDevices(Path original, Path planted) throws Exception {
        try (SnapshotReader a = format.open(original); SnapshotReader b = format.open(planted)) {
            List<SnapshotDevice> devices = a.origin().devices();
            assertTrue(devices.stream().anyMatch(d -> d.name().equals("cpu")), devices.toString());
            assertEquals(devices, b.origin().devices());
            byte[] sections = ((QemuMigrationFile) a).deviceSections();
            byte[] plantedSections = ((QemuMigrationFile) b).deviceSections();
            assertEquals(sections.length, plantedSections.length, "the device sections end at the same EOF byte");
            assertFalse(Arrays.equals(sections, plantedSections), "the footer is planted among them");
        }
    }

    /** A copy of {@code file} whose first vCPU's RCX is {@code 7e <be32 cpu section id> 00 00 00}. */
    private Path plantFooterInRcx(Path file, String name) throws Exception {
        byte[] all = Files.readAllBytes(file);
        int cpu = cpuSection(all);
        int id = ByteBuffer.wrap(all).getInt(cpu + 1);
        int rcx = cpu + 1 + 4 + 1 + 3 + 4 + 4 + 8; // header, then env.regs[0] (RAX), then RCX
        ByteBuffer.wrap(all).put(rcx, (byte) MigrationStream.FOOTER).putInt(rcx + 1, id).put(rcx + 5, new byte[3]);
        return Files.write(dir.resolve(name), all);
    }

    /** Where the first vCPU's FULL section starts: {@code 04 <be32 id> 03 "cpu" <be32 0>}. */
    private static int cpuSection(byte[] all) {
        for (int i = 0; i + 13 <= all.length; i++) {
            if (all[i] == MigrationStream.SECTION_FULL && all[i + 5] == 3 && all[i + 6] == 'c' && all[i + 7] == 'p'
                    && all[i + 8] == 'u' && ByteBuffer.wrap(all).getInt(i + 9) == 0) {
                return i;
            }
        }
        throw new AssertionError("no cpu section");
    }

    /** {@code file} with {@code json} as its VMDESCRIPTION. */
    private static void describe(Path file, String json) throws Exception {
        byte[] all = Files.readAllBytes(file);
        int at = QemuBadInputTest.indexOf(all, "{\"configuration\": {\"vmsd_name\"");
        byte[] bytes = json.getBytes(StandardCharsets.US_ASCII);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(at);
            ch.write(ByteBuffer.allocate(4).putInt(0, bytes.length), at - 4);
            ch.write(ByteBuffer.wrap(bytes), at);
        }
    }

    /**
     * The microvm sample with one device section, id 100, of {@code size} bytes of {@code candidate} repeated, then
     * its footer where {@code closed}, then EOF, and no description.
     */
    private Path falseFooters(String name, int size, byte[] candidate, boolean closed) throws Exception {
        byte[] all = Files.readAllBytes(Samples.write("qemu-microvm.mr", dir));
        int first = QemuBadInputTest.indexOf(all, "\u0005timer") - 5; // 0x04, be32 id, then the idstr
        ByteBuffer file = ByteBuffer.allocate(first + 17 + size + 6);
        file.put(all, 0, first).put((byte) MigrationStream.SECTION_FULL).putInt(100).put((byte) 3)
                .put("dev".getBytes(StandardCharsets.US_ASCII)).putInt(0).putInt(1);
        for (int i = 0; i < size; i += candidate.length) {
            file.put(candidate);
        }
        if (closed) {
            file.put((byte) MigrationStream.FOOTER).putInt(100);
        }
        file.put((byte) MigrationStream.SECTION_EOF);
        return Files.write(dir.resolve(name), Arrays.copyOf(file.array(), file.position()));
    }

    /** A copy of {@code file} ending at its EOF byte, as QEMU writes it with {@code -machine suppress-vmdesc=on}. */
    private Path withoutDescription(Path file, String name) throws Exception {
        long eof;
        try (SnapshotReader r = format.open(file)) {
            byte[] sections = ((QemuMigrationFile) r).deviceSections();
            byte[] all = Files.readAllBytes(file);
            eof = QemuBadInputTest.indexOf(all, Arrays.copyOf(sections, 64)) + sections.length;
            assertEquals(MigrationStream.SECTION_EOF, all[(int) eof]);
        }
        Path copy = Files.copy(file, dir.resolve(name));
        try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
            ch.truncate(eof + 1);
        }
        return copy;
    }
}
