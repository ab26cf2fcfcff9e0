package dev.thaw.format.qemu.impl;

import dev.thaw.format.qemu.MigrationStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.thaw.api.snapshot.SnapshotDevice;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the device sections cannot be walked, the description is found from the end of the file, piece by piece. */
class VmDescriptionTest {

    @TempDir
    Path dir;

    @Test
    void theDescriptionIsFoundFromTheEndWhereverItsMarkerFallsInThePiecesScanned() throws Exception {
        for (int devices : new int[] {1, 1281, 3000}) { // 1281: 65515 bytes of JSON, and the spaces put the marker on
            // both sides of the first 64 KiB piece scanned
            StringBuilder json = new StringBuilder("{\"devices\": [");
            for (int i = 0; i < devices; i++) {
                json.append(i == 0 ? "" : ", ").append("{\"name\": \"dev\", \"instance_id\": ").append(i)
                        .append(", \"version\": 1}");
            }
            byte[] text = json.append("]}").toString().getBytes(StandardCharsets.US_ASCII);
            for (int tail = 0; tail < 32; tail++) {
                byte[] padded = new byte[text.length + tail]; // spaces after the JSON move the marker by a byte
                System.arraycopy(text, 0, padded, 0, text.length);
                Arrays.fill(padded, text.length, padded.length, (byte) ' ');
                List<SnapshotDevice> found = devicesFromTheEnd(padded);
                assertEquals(devices, found.size(), devices + " devices, " + tail + " spaces");
                assertEquals(new SnapshotDevice("dev", devices - 1, 1), found.getLast());
            }
        }
    }

    @Test
    void aFileWithoutADescriptionHasNone() throws Exception {
        Path file = Files.write(dir.resolve("none"), new byte[200_000]);
        try (FileChannel ch = FileChannel.open(file)) {
            assertNull(VmDescription.devices(new Cursor(ch, ch.size(), 0), false));
        }
    }

    /** The devices of a file of 100,000 bytes of 0x7e, then EOF, VMDESCRIPTION, the length and {@code json}. */
    private List<SnapshotDevice> devicesFromTheEnd(byte[] json) throws Exception {
        byte[] prefix = new byte[100_000];
        Arrays.fill(prefix, (byte) 0x7e);
        ByteBuffer file = ByteBuffer.allocate(prefix.length + 6 + json.length).put(prefix)
                .put((byte) MigrationStream.SECTION_EOF).put((byte) MigrationStream.VMDESCRIPTION).putInt(json.length).put(json);
        Path path = Files.write(dir.resolve("described"), file.array());
        try (FileChannel ch = FileChannel.open(path)) {
            return VmDescription.devices(new Cursor(ch, ch.size(), 0), false);
        }
    }
}
