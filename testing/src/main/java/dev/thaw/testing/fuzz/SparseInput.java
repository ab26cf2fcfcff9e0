package dev.thaw.testing.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * A fuzz input that stands for a sparse file, so that a snapshot whose sections lie megabytes or gigabytes
 * apart (page areas start on 1 MiB boundaries) is a few kilobytes of input, and the fuzzer's mutations land
 * on the bytes a reader looks at rather than on the zeros between them.
 *
 * <pre>
 * input  := size extent*        size: be64, the file's length (it is at least as long as its extents)
 * extent := MARKER offset data  offset: be64; data: every byte up to the next MARKER or the end of the input
 * </pre>
 * A delimiter rather than a length keeps the framing when a mutation inserts or erases bytes inside an
 * extent. Decoding never fails: sizes and offsets are taken modulo {@link #MAX_FILE} (64 GiB, as sparse
 * files cost nothing), an incomplete offset is dropped, later extents overwrite earlier ones.
 */
public final class SparseInput {

    /** No file decoded is longer. */
    public static final long MAX_FILE = 1L << 36;
    /** Starts each extent; not in any seed's data ({@link Builder} checks). */
    static final byte[] MARKER = {0, 'x', 't', 'n', 't', '@', '#', 0};
    /** Zero runs at least this long become holes when a file is encoded. */
    static final int MIN_HOLE = 32;

    private SparseInput() {}

    /** Writes the file {@code input} stands for to {@code file}, replacing it; returns its length. */
    public static long write(byte[] input, Path file) throws IOException {
        long size = input.length >= 8 ? ByteBuffer.wrap(input).getLong(0) & (MAX_FILE - 1) : 0;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"); FileChannel channel = raf.getChannel()) {
            raf.setLength(0);
            int at = indexOf(input, 8);
            while (at >= 0) {
                int dataStart = at + MARKER.length + 8;
                if (dataStart > input.length) {
                    break;
                }
                long offset = ByteBuffer.wrap(input, at + MARKER.length, 8).getLong() & (MAX_FILE - 1);
                int next = indexOf(input, dataStart);
                int dataEnd = next < 0 ? input.length : next;
                int length = (int) Math.min(dataEnd - dataStart, MAX_FILE - offset);
                ByteBuffer data = ByteBuffer.wrap(input, dataStart, length);
                while (data.hasRemaining()) {
                    channel.write(data, offset + data.position() - dataStart);
                }
                size = Math.max(size, offset + length);
                at = next;
            }
            raf.setLength(size);
        }
        return size;
    }

    private static int indexOf(byte[] input, int from) {
        outer:
        for (int i = from; i <= input.length - MARKER.length; i++) {
            for (int j = 0; j < MARKER.length; j++) {
                if (input[i + j] != MARKER[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The input for the {@code size}-byte file made of the extents {@link Builder#add added}, holes elsewhere. */
    public static Builder builder(long size) {
        return new Builder(size);
    }

    /** The input for {@code file}: it is read whole, so meant for files of megabytes (holes read as zeros). */
    public static byte[] of(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            Builder b = builder(raf.length());
            byte[] chunk = new byte[1 << 20];
            for (long at = 0; at < raf.length(); at += chunk.length) {
                int n = (int) Math.min(chunk.length, raf.length() - at);
                raf.readFully(chunk, 0, n);
                b.add(at, Arrays.copyOf(chunk, n));
            }
            return b.build();
        }
    }

    /**
     * The input for a file packed as {@code thaw-sparse-1} (bundles/samples: SparseFile, qemu/pack.py): gzip of
     * the magic line, be64 size, then per extent be64 offset, be32 length and the bytes, ending with offset -1.
     * Read here without expanding it, so an 8 GiB sample costs its few extents.
     */
    public static byte[] ofPack(InputStream packed) throws IOException {
        DataInputStream in = new DataInputStream(new GZIPInputStream(packed));
        byte[] magic = "thaw-sparse-1\n".getBytes(StandardCharsets.US_ASCII);
        if (!Arrays.equals(in.readNBytes(magic.length), magic)) {
            throw new IOException("not a thaw-sparse-1 pack");
        }
        try {
            Builder b = builder(in.readLong());
            for (long offset = in.readLong(); offset >= 0; offset = in.readLong()) {
                b.add(offset, in.readNBytes(in.readInt()));
            }
            return b.build();
        } catch (EOFException e) {
            throw new IOException("the pack ends early", e);
        }
    }

    /** Collects a file's extents, leaving out runs of zeros of {@link #MIN_HOLE} bytes or more. */
    public static final class Builder {

        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private Builder(long size) {
            if (size < 0 || size >= MAX_FILE) {
                throw new IllegalArgumentException("a " + size + "-byte file is beyond " + MAX_FILE);
            }
            out.writeBytes(ByteBuffer.allocate(8).putLong(size).array());
        }

        /** Adds the bytes at {@code offset}; their zero runs become holes. */
        public Builder add(long offset, byte[] data) {
            int i = 0;
            while (i < data.length) {
                while (i < data.length && data[i] == 0) {
                    i++;
                }
                if (i == data.length) {
                    break;
                }
                int start = i;
                int last = i;
                for (int zeros = 0; i < data.length && zeros < MIN_HOLE; i++) {
                    if (data[i] == 0) {
                        zeros++;
                    } else {
                        zeros = 0;
                        last = i;
                    }
                }
                extent(offset + start, Arrays.copyOfRange(data, start, last + 1));
            }
            return this;
        }

        private void extent(long offset, byte[] data) {
            byte[] framed = Arrays.copyOf(data, data.length + MARKER.length);
            System.arraycopy(MARKER, 0, framed, data.length, MARKER.length);
            if (indexOf(framed, 0) != data.length) {
                throw new IllegalArgumentException("the data at " + offset + " would be read as holding an extent marker");
            }
            out.writeBytes(MARKER);
            out.writeBytes(ByteBuffer.allocate(8).putLong(offset).array());
            out.writeBytes(data);
        }

        public byte[] build() {
            return out.toByteArray();
        }
    }
}
