package dev.thaw.samples.impl;

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
 * A file kept as a gzip of its non-zero extents ({@code thaw-sparse-1}, made by qemu/pack.py): the magic line,
 * the file's size as be64, then per extent be64 offset, be32 length and the bytes, ending with offset -1.
 * Written back out as a sparse file, so an 8 GiB guest's file costs kilobytes.
 */
public final class SparseFile {

    static final byte[] MAGIC = "thaw-sparse-1\n".getBytes(StandardCharsets.US_ASCII);
    /** Larger than any extent pack.py writes (it splits at 1 MiB); a longer one is a damaged pack. */
    static final int MAX_EXTENT = 16 << 20;

    private SparseFile() {}

    /** Writes the packed file {@code packed} (gzip) to {@code out}, replacing it. */
    public static void expand(InputStream packed, Path out) throws IOException {
        DataInputStream in = new DataInputStream(new GZIPInputStream(packed, 1 << 16));
        try {
            if (!Arrays.equals(in.readNBytes(MAGIC.length), MAGIC)) {
                throw new IOException("not a thaw-sparse-1 pack");
            }
            long size = in.readLong();
            try (RandomAccessFile file = new RandomAccessFile(out.toFile(), "rw"); FileChannel channel = file.getChannel()) {
                file.setLength(0);
                for (long offset = in.readLong(); offset >= 0; offset = in.readLong()) {
                    int length = in.readInt();
                    if (length < 0 || length > MAX_EXTENT || offset > size - length) {
                        throw new IOException("extent " + offset + "+" + length + " does not fit a " + size + "-byte file");
                    }
                    ByteBuffer bytes = ByteBuffer.wrap(in.readNBytes(length));
                    while (bytes.hasRemaining()) {
                        channel.write(bytes, offset + bytes.position());
                    }
                }
                file.setLength(size); // the rest is a hole
            }
        } catch (EOFException e) {
            throw new IOException("the pack ends early", e);
        }
    }
}
