package dev.thaw.samples.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import dev.thaw.testing.FileBlocks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import dev.thaw.testing.RequiresQemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each sample expands to exactly the file QEMU wrote (qemu/SHA256SUMS), as a sparse file, and QEMU writes them again. */
class PackedSamplesTest {

    static final String BIG = "qemu-8g-sparse.mr";

    @TempDir
    Path dir;

    /** Where QEMU is installed, the samples are made again, and must be the committed ones. */
    @Test
    @RequiresQemu
    void qemuMakesTheSamplesAgainByteForByte() throws Exception {
        assumeTrue(onPath("python3"), "python3 is needed to make the samples");
        Process p = new ProcessBuilder("qemu/make-samples.sh", "--check").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }

    private static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void everySampleExpandsToTheBytesQemuWroteAndStaysSparse() throws Exception {
        Map<String, String> sums = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("qemu/SHA256SUMS"))) {
            sums.put(line.substring(66), line.substring(0, 64));
        }
        PackedSamples samples = new PackedSamples();
        assertEquals(sums.keySet(), samples.samples().keySet(), "every sample indexed, and its sum recorded");
        for (Map.Entry<String, String> e : sums.entrySet()) {
            Path file = samples.write(e.getKey(), dir);
            if (!e.getKey().equals(BIG)) { // hashing 8 GiB takes 10 s; its pages are checked by the format's tests
                assertEquals(e.getValue(), sha256(file), e.getKey());
            }
        }
        Path big = dir.resolve(BIG);
        assertEquals(8_595_200_791L, Files.size(big));
        long allocated = FileBlocks.allocatedBytes(big);
        assertTrue(allocated < 16L << 20, "8 GiB written as a sparse file, not " + allocated + " bytes");
    }

    @Test
    void anUnknownNameOrADamagedPackIsRefused() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PackedSamples().write("nope", dir));
        assertTrue(e.getMessage().startsWith("no sample named 'nope' (there are qemu-8g-sparse.mr,"), e.getMessage());
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(raw))) {
            out.write(SparseFile.MAGIC);
            out.writeLong(4096);
            out.writeLong(4000); // an extent running past the file's end
            out.writeInt(200);
        }
        IOException bad = assertThrows(IOException.class,
                () -> SparseFile.expand(new ByteArrayInputStream(raw.toByteArray()), dir.resolve("bad")));
        assertEquals("extent 4000+200 does not fit a 4096-byte file", bad.getMessage());
        for (byte[] truncated : List.of(new byte[0], java.util.Arrays.copyOf(raw.toByteArray(), 20))) {
            assertThrows(IOException.class, () -> SparseFile.expand(new ByteArrayInputStream(truncated), dir.resolve("bad")));
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            long pos = 0;
            // Holes read as zeros: the 8 GiB sample takes a few seconds.
            while (pos < ch.size()) {
                buf.clear();
                int n = ch.read(buf, pos);
                buf.flip();
                sha.update(buf);
                pos += n;
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
