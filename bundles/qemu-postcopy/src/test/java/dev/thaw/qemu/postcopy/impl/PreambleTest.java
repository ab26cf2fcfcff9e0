package dev.thaw.qemu.postcopy.impl;

import dev.thaw.format.qemu.MigrationStream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.QemuMigrationFile;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.samples.impl.PackedSamples;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stream before the first page, built from a file QEMU 10 wrote (a pc machine with 32 MiB and a VGA card). */
class PreambleTest {

    @TempDir
    Path dir;

    @Test
    void aQemuFilesPreambleHasItsMachineWithoutMappedRamItsBlocksADiscardEachAndItsDevicesVerbatimInThePackage() {
        Path file = new PackedSamples().write("qemu-pc.mr", dir);
        try (SnapshotReader reader = new QemuMappedRamFormat().open(file)) {
            MigrationFile mf = MigrationFile.of(reader);
            assertEquals(List.of("mapped-ram"), reader.origin().capabilities());
            assertEquals(List.of(), mf.capabilities());
            ByteBuffer b = Preamble.of(mf);

            assertEquals(MigrationStream.MAGIC, b.getInt());
            assertEquals(MigrationStream.VERSION, b.getInt());
            assertEquals(MigrationStream.CONFIGURATION, b.get());
            assertEquals("pc-i440fx-10.0", text(b, b.getInt()));
            assertArrayEquals(Hex.of("08 0001 0000 08 0003 0010 0000000000001000 0000000000001000"), bytes(b, 26),
                    "no capabilities subsection: OPEN_RETURN_PATH and ADVISE follow the machine type");

            assertEquals(MigrationStream.SECTION_START, b.get());
            int sid = b.getInt();
            assertEquals(((QemuMigrationFile) reader).ramSectionId(), sid);
            assertArrayEquals(Hex.of("03 \"ram\" 00000000 00000004"), bytes(b, 12));
            long total = b.getLong();
            assertEquals(MigrationStream.RAM_MEM_SIZE, total & 0xfff);
            List<String> listed = new ArrayList<>();
            for (long sum = 0; sum < (total & ~0xfffL); ) {
                String name = text(b, b.get());
                long used = b.getLong();
                listed.add(name + ":" + used);
                sum += used;
            }
            assertEquals(reader.regions().stream().map(r -> r.name() + ":" + r.size()).toList(), listed);
            assertEquals(MigrationStream.RAM_EOS, b.getLong());
            assertEquals(MigrationStream.FOOTER, b.get());
            assertEquals(sid, b.getInt());

            for (var r : reader.regions()) {
                byte[] name = r.name().getBytes(StandardCharsets.US_ASCII);
                ByteBuffer discard = ByteBuffer.allocate(5 + 3 + name.length + 16).put((byte) 8).putShort((short) 6)
                        .putShort((short) (3 + name.length + 16)).put((byte) 0).put((byte) name.length).put(name).put((byte) 0)
                        .putLong(0).putLong(r.size());
                assertArrayEquals(discard.array(), bytes(b, discard.capacity()), "the whole-block discard of " + r.name());
            }

            byte[] devices = ((QemuMigrationFile) reader).deviceSections();
            assertArrayEquals(Hex.of("08 0007 0004"), bytes(b, 5));
            assertEquals(5 + devices.length + 9 + 5, b.getInt());
            assertArrayEquals(Hex.of("08 0004 0000"), bytes(b, 5));
            assertArrayEquals(devices, bytes(b, devices.length));
            assertArrayEquals(Hex.of("08 0002 0004 00000003 08 0005 0000"), bytes(b, 14));
            assertEquals(0, b.remaining(), "the package ends the preamble");
        }
    }

    private static byte[] bytes(ByteBuffer b, int n) {
        byte[] a = new byte[n];
        b.get(a);
        return a;
    }

    private static String text(ByteBuffer b, int n) {
        return new String(bytes(b, n & 0xff), StandardCharsets.US_ASCII);
    }
}
