package dev.thaw.format.qemu.impl;

import dev.thaw.format.qemu.MigrationStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.QemuMigrationFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/** What a migration source copies from a QEMU file: the RAM section's header, and the device sections byte for byte. */
class MigrationLayoutTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"qemu-microvm.mr, 0", "qemu-offset.mr, 4660", "qemu-pc.mr, 0", "qemu-q35.mr, 0"})
    void theDeviceSectionsAreTheFilesBytesFromTheFirstDeviceSectionToTheEofByte(String sample, long offset) throws Exception {
        Path file = Samples.write(sample, dir);
        byte[] whole = Files.readAllBytes(file);
        try (SnapshotReader r = new QemuMappedRamFormat().open(file, offset)) {
            QemuMigrationFile m = (QemuMigrationFile) r;
            assertEquals(4, m.ramSectionVersion());
            assertEquals(Optional.empty(), m.uuid());
            byte[] devices = m.deviceSections();
            // walked again here by the footers: FULL sections back to back, each closed by its id's footer, and the
            // device names in file order, as the reader lists them
            ByteBuffer b = ByteBuffer.wrap(devices);
            List<String> names = new ArrayList<>();
            while (b.hasRemaining()) {
                assertEquals(MigrationStream.SECTION_FULL, b.get(), "a FULL section at byte " + (b.position() - 1));
                int id = b.getInt();
                byte[] name = new byte[b.get()];
                b.get(name);
                int instance = b.getInt();
                names.add(new String(name) + (instance == 0 ? "" : "#" + instance));
                b.getInt();
                byte[] footer = {(byte) MigrationStream.FOOTER, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id};
                int at = indexOf(devices, footer, b.position());
                assertTrue(at > 0, "footer of section " + id);
                b.position(at + 5);
            }
            assertEquals(r.origin().devices().stream().map(d -> d.instance() == 0 ? d.name() : d.name() + "#" + d.instance())
                    .toList(), names);
            int start = indexOf(whole, devices, (int) offset);
            assertTrue(start > 0);
            assertEquals(MigrationStream.SECTION_EOF, whole[start + devices.length], "the EOF byte follows");
            byte[] ramStart = {0x03, 'r', 'a', 'm', 0, 0, 0, 0, 0, 0, 0, 4}; // idstr "ram", instance 0, version 4
            int ram = indexOf(whole, ramStart, (int) offset);
            assertEquals(MigrationStream.SECTION_START, whole[ram - 5]);
            assertEquals(ByteBuffer.wrap(whole).getInt(ram - 4), m.ramSectionId(), "the id in the RAM section's START header");
        }
    }

    private static int indexOf(byte[] in, byte[] what, int from) {
        outer:
        for (int i = from; i + what.length <= in.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (in[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
