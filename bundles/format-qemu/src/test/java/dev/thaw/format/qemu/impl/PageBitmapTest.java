package dev.thaw.format.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chunked bitmap answers as the plain one would, and holds only its mixed chunks. */
class PageBitmapTest {

    @TempDir
    Path dir;

    @Test
    void answersAsThePlainBitmapAndHoldsOnlyMixedChunks() throws Exception {
        int chunks = 21; // more than one read's worth
        long pages = (long) (chunks - 1) * PageBitmap.CHUNK_WORDS * 64 + 100; // the last chunk is short
        int words = (int) ((pages + 63) / 64);
        long[] plain = new long[words];
        Random random = new Random(7);
        for (int w = 0; w < words; w++) {
            plain[w] = switch (w / PageBitmap.CHUNK_WORDS % 3) {
                case 0 -> 0;
                case 1 -> -1L;
                default -> random.nextLong();
            };
        }
        plain[words - 1] = -1L; // bits past the last page, which must not count
        long offset = 1000;
        Path file = dir.resolve("bitmap");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.allocate(words * 8).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asLongBuffer().put(plain);
            ch.write(bytes, offset);
        }
        PageBitmap bitmap;
        try (FileChannel ch = FileChannel.open(file)) {
            bitmap = PageBitmap.read(ch, new RamBlock("b", pages * 4096, 4096, offset, 1L << 20));
        }
        long present = 0;
        for (long page = 0; page < pages; page++) {
            boolean expected = (plain[(int) (page >>> 6)] >>> (page & 63) & 1) != 0;
            assertEquals(expected, bitmap.present(page), "page " + page);
            present += expected ? 1 : 0;
        }
        assertEquals(present, bitmap.presentPages());
        long mixed = 0;
        for (int c = 0; c < chunks - 1; c++) {
            mixed += c % 3 == 2 ? PageBitmap.CHUNK_WORDS * 8L : 0;
        }
        assertEquals(mixed + 2 * 8, bitmap.heldBytes(), "mixed chunks, and the short last one (two words, mixed)");
    }
}
