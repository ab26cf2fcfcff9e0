package dev.thaw.format.qemu.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * A RAM block's page bitmap, held in chunks of {@link #CHUNK_WORDS} words of which the all-clear and all-set
 * ones are shared. So what it holds follows what the file holds, not what the file claims: a 4 TiB block's
 * bitmap is 128 MiB, and where the file has a hole there (a sparse file of a few KB on disk) or QEMU found
 * only zero pages, it costs a reference per chunk. It is read through one small buffer.
 */
final class PageBitmap {

    /** 4 KiB of bitmap: the pages of 128 MiB of guest RAM. */
    static final int CHUNK_WORDS = 512;
    private static final int CHUNK_SHIFT = 15; // pages per chunk: 512 * 64
    /** Chunks read at a time. */
    private static final int READ_CHUNKS = 16;

    private static final long[] CLEAR = new long[CHUNK_WORDS];
    private static final long[] SET = new long[CHUNK_WORDS];

    static {
        Arrays.fill(SET, -1L);
    }

    private final long[][] chunks;
    private final long present;
    private final long heldBytes;

    private PageBitmap(long[][] chunks, long present, long heldBytes) {
        this.chunks = chunks;
        this.present = present;
        this.heldBytes = heldBytes;
    }

    /** Block {@code b}'s bitmap; the parser checked that the file holds it. Bits past the last page are ignored. */
    static PageBitmap read(FileChannel channel, RamBlock b) throws IOException {
        long pages = b.pages();
        long words = (pages + 63) >>> 6;
        long[][] chunks = new long[Math.toIntExact((words + CHUNK_WORDS - 1) / CHUNK_WORDS)][];
        ByteBuffer bytes = ByteBuffer.allocate((int) Math.min(words, (long) READ_CHUNKS * CHUNK_WORDS) * 8)
                .order(ByteOrder.LITTLE_ENDIAN); // QEMU writes its unsigned longs as they are on x86-64
        long[] scratch = new long[CHUNK_WORDS];
        long present = 0;
        long held = 0;
        for (long word = 0; word < words; ) {
            int n = (int) Math.min(bytes.capacity() / 8, words - word);
            bytes.clear().limit(n * 8);
            QemuMappedRamReader.readFully(channel, bytes, b.bitmapOffset() + word * 8);
            LongBuffer longs = bytes.flip().asLongBuffer();
            for (int at = 0; at < n; at += CHUNK_WORDS) {
                int length = Math.min(CHUNK_WORDS, n - at);
                longs.get(at, scratch, 0, length);
                long first = word + at;
                if (first + length == words && (pages & 63) != 0) {
                    scratch[length - 1] &= (1L << (pages & 63)) - 1; // bits past the last page mean nothing
                }
                long set = 0;
                for (int i = 0; i < length; i++) {
                    set += Long.bitCount(scratch[i]);
                }
                present += set;
                long[] chunk;
                if (set == 0) {
                    chunk = CLEAR;
                } else if (set == (long) length * 64) {
                    chunk = SET;
                } else {
                    chunk = Arrays.copyOf(scratch, length);
                    held += length * 8L;
                }
                chunks[(int) (first / CHUNK_WORDS)] = chunk;
            }
            word += n;
        }
        return new PageBitmap(chunks, present, held);
    }

    /** Whether page {@code page} is in the file; the caller checked it is one of the block's pages. */
    boolean present(long page) {
        return (chunks[(int) (page >>> CHUNK_SHIFT)][(int) (page >>> 6) & (CHUNK_WORDS - 1)] >>> (page & 63) & 1) != 0;
    }

    /** Pages in the file. */
    long presentPages() {
        return present;
    }

    /** Bytes of bitmap held apart from the shared all-clear and all-set chunks (for tests). */
    long heldBytes() {
        return heldBytes;
    }
}
