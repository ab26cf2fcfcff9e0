package dev.thaw.format.thaw.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Makes a fuzzed Thaw file's checksums agree with its bytes, as a writer would have, so that a mutation gets
 * past the CRC32C that guards it to the code that reads what it changed (else nearly every mutant is refused
 * by its first checksum). The fields are read leniently from the file as it is, in the reader's order of
 * dependence: page checksums, then the sections' checksums, then the header's.
 */
final class ChecksumFixups {

    /** Each present page's entry in its region's checksum table (the first {@link #MAX_PAGES} present pages). */
    static final int PAGES = 1;
    /** The bitmaps', checksum tables', region table's and state's checksums. */
    static final int SECTIONS = 2;
    /** The header's file length (to the file's) and its checksum. */
    static final int HEADER = 4;
    static final int ALL = PAGES | SECTIONS | HEADER;

    /** Page checksums written at most per file. */
    static final int MAX_PAGES = 4096;
    /** Bytes checksummed at most per file; sections are bounded by the file, which may be 64 GiB of holes. */
    static final long MAX_BYTES = 64L << 20;

    private final FileChannel channel;
    private final long length;
    private long budget = MAX_BYTES;
    private int pagesLeft = MAX_PAGES;

    private ChecksumFixups(FileChannel channel) throws IOException {
        this.channel = channel;
        this.length = channel.size();
    }

    /** Applies the fixups {@code flags} asks for ({@link #PAGES}, {@link #SECTIONS}, {@link #HEADER}) to {@code file}. */
    static void apply(Path file, int flags) throws IOException {
        if ((flags & ALL) == 0) {
            return;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            new ChecksumFixups(channel).apply(flags);
        }
    }

    private void apply(int flags) throws IOException {
        if (length < Layout.HEADER_SIZE) {
            return;
        }
        ByteBuffer header = read(0, Layout.HEADER_SIZE);
        long tableOffset = header.getLong(Layout.H_REGION_TABLE_OFFSET);
        long count = Integer.toUnsignedLong(header.getInt(Layout.H_REGION_COUNT));
        if ((flags & (PAGES | SECTIONS)) != 0 && count <= Layout.MAX_REGIONS
                && inside(tableOffset, count * Layout.REGION_ENTRY_SIZE)) {
            ByteBuffer table = read(tableOffset, (int) count * Layout.REGION_ENTRY_SIZE);
            for (int i = 0; i < count; i++) {
                region(table, i * Layout.REGION_ENTRY_SIZE, flags);
            }
            if ((flags & SECTIONS) != 0) {
                write(table, tableOffset);
                header.putInt(Layout.H_REGION_TABLE_CRC, crc(table));
            }
        }
        if ((flags & SECTIONS) != 0) {
            long stateOffset = header.getLong(Layout.H_STATE_OFFSET);
            long stateLength = header.getLong(Layout.H_STATE_LENGTH);
            if (inside(stateOffset, stateLength)) {
                header.putInt(Layout.H_STATE_CRC, crc(stateOffset, stateLength));
            }
        }
        if ((flags & HEADER) != 0) {
            header.putLong(Layout.H_FILE_LENGTH, length);
        }
        if ((flags & (SECTIONS | HEADER)) != 0) {
            header.putInt(Layout.H_CRC, Layout.crc32c(header.array(), 0, Layout.H_CRC));
            write(header, 0);
        }
    }

    private void region(ByteBuffer table, int at, int flags) throws IOException {
        long size = table.getLong(at + Layout.R_SIZE);
        if (size <= 0) {
            return;
        }
        long pages = size >>> Layout.PAGE_SHIFT;
        long bitmapOffset = table.getLong(at + Layout.R_BITMAP_OFFSET);
        long checksumsOffset = table.getLong(at + Layout.R_CHECKSUMS_OFFSET);
        long pagesOffset = table.getLong(at + Layout.R_PAGES_OFFSET);
        boolean bitmap = inside(bitmapOffset, Layout.bitmapLength(pages));
        boolean checksums = inside(checksumsOffset, Layout.checksumsLength(pages));
        if ((flags & PAGES) != 0 && bitmap && checksums && inside(pagesOffset, size)) {
            pageChecksums(pages, bitmapOffset, checksumsOffset, pagesOffset);
        }
        if ((flags & SECTIONS) != 0) {
            if (bitmap) {
                table.putInt(at + Layout.R_BITMAP_CRC, crc(bitmapOffset, Layout.bitmapLength(pages)));
            }
            if (checksums) {
                table.putInt(at + Layout.R_CHECKSUMS_CRC, crc(checksumsOffset, Layout.checksumsLength(pages)));
            }
        }
    }

    private void pageChecksums(long pages, long bitmapOffset, long checksumsOffset, long pagesOffset) throws IOException {
        long words = (pages + 63) / 64;
        int chunkWords = 8192;
        for (long first = 0; first < words && pagesLeft > 0 && budget > 0; first += chunkWords) {
            int n = (int) Math.min(chunkWords, words - first);
            ByteBuffer chunk = read(bitmapOffset + first * 8, n * 8);
            budget -= n * 8L;
            for (int w = 0; w < n && pagesLeft > 0; w++) {
                for (long bits = chunk.getLong(w * 8); bits != 0 && pagesLeft > 0; bits &= bits - 1) {
                    long page = (first + w) * 64 + Long.numberOfTrailingZeros(bits);
                    if (page >= pages) {
                        break;
                    }
                    int sum = crc(pagesOffset + (page << Layout.PAGE_SHIFT), Layout.PAGE_SIZE);
                    write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, sum), checksumsOffset + page * 4);
                    pagesLeft--;
                }
            }
        }
    }

    /** Whether {@code [offset, offset + size)} is within the file (offsets of 2^63 and more are not). */
    private boolean inside(long offset, long size) {
        return offset >= 0 && size >= 0 && offset <= length - size;
    }

    private ByteBuffer read(long offset, int size) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining() && channel.read(b, offset + b.position()) >= 0) {
            // a file shorter than asked reads as zeros past its end
        }
        return b.clear();
    }

    private void write(ByteBuffer b, long offset) throws IOException {
        b.clear();
        while (b.hasRemaining()) {
            channel.write(b, offset + b.position());
        }
    }

    private static int crc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.clear());
        return (int) crc.getValue();
    }

    /** CRC32C of the file's bytes there; 0 (a wrong checksum, as the reader will say) past the budget. */
    private int crc(long offset, long size) throws IOException {
        budget -= size;
        if (budget < 0) {
            return 0;
        }
        CRC32C crc = new CRC32C();
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(size, 1 << 20));
        for (long done = 0; done < size; done += chunk.capacity()) {
            chunk.clear().limit((int) Math.min(chunk.capacity(), size - done));
            while (chunk.hasRemaining() && channel.read(chunk, offset + done + chunk.position()) >= 0) {
                // the caller checked the range is inside the file
            }
            crc.update(chunk.flip());
        }
        return (int) crc.getValue();
    }
}
