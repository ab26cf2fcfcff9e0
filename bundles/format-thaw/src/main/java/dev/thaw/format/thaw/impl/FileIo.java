package dev.thaw.format.thaw.impl;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/** Positional I/O of memory segments in large pieces, zero-page tests and checksums. */
final class FileIo {

    /** Largest single read or write: ByteBuffers are int-indexed, and 64 MiB keeps each call bounded. */
    static final long MAX_IO = 64L << 20;

    private static final MemorySegment ZERO_PAGE = Arena.global().allocate(Layout.PAGE_SIZE, Layout.PAGE_SIZE);

    private FileIo() {}

    /** Writes all of {@code data} at {@code position}, in pieces of at most {@link #MAX_IO}. */
    static void write(FileChannel channel, MemorySegment data, long position) throws IOException {
        for (long done = 0; done < data.byteSize(); ) {
            long piece = Math.min(MAX_IO, data.byteSize() - done);
            ByteBuffer buffer = data.asSlice(done, piece).asByteBuffer();
            while (buffer.hasRemaining()) {
                channel.write(buffer, position + done + buffer.position());
            }
            done += piece;
        }
    }

    static void write(FileChannel channel, byte[] data, long position) throws IOException {
        write(channel, MemorySegment.ofArray(data), position);
    }

    /**
     * Fills all of {@code target} from {@code position}, in pieces of at most {@link #MAX_IO}.
     *
     * @throws EOFException when the file ends first
     */
    static void read(FileChannel channel, MemorySegment target, long position) throws IOException {
        for (long done = 0; done < target.byteSize(); ) {
            long piece = Math.min(MAX_IO, target.byteSize() - done);
            ByteBuffer buffer = target.asSlice(done, piece).asByteBuffer();
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, position + done + buffer.position()) < 0) {
                    throw new EOFException("the file ends at " + (position + done + buffer.position()));
                }
            }
            done += piece;
        }
    }

    /** Whether the 4 KiB page at {@code offset} of {@code memory} is all zeros. */
    static boolean isZeroPage(MemorySegment memory, long offset) {
        return MemorySegment.mismatch(memory, offset, offset + Layout.PAGE_SIZE, ZERO_PAGE, 0, Layout.PAGE_SIZE) < 0;
    }

    /** CRC32C of {@code data}. */
    static int crc32c(MemorySegment data) {
        CRC32C crc = new CRC32C();
        for (long done = 0; done < data.byteSize(); done += MAX_IO) {
            crc.update(data.asSlice(done, Math.min(MAX_IO, data.byteSize() - done)).asByteBuffer());
        }
        return (int) crc.getValue();
    }

    /** CRC32C of the {@code length} bytes at {@code offset} of {@code buffer}, leaving its position and limit alone. */
    static int crc32c(CRC32C crc, ByteBuffer buffer, int offset, int length) {
        crc.reset();
        crc.update(buffer.slice(offset, length));
        return (int) crc.getValue();
    }
}
