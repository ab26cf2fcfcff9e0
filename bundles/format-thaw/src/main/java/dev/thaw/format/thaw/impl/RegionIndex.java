package dev.thaw.format.thaw.impl;

import static dev.thaw.format.thaw.impl.Layout.PAGE_SHIFT;

import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.format.thaw.impl.Layout.RegionEntry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * One region of an open snapshot: its table entry and the two indexes over its page area, each read when
 * first needed. The presence bitmap is read and checked (its CRC, and its count against the region
 * table) at the first question about a page, the checksum table in blocks as pages need them. Opening a
 * snapshot reads neither, so a lazy restore resumes as fast at 16 GiB as at 16 MiB (checking a 1 GiB
 * region's bitmap took about 0.35 ms at open, on the path to running vCPUs), and a demand fault costs one
 * read, not two. A damaged bitmap fails every question about the region's pages with the same message.
 */
final class RegionIndex {

    /** Fills {@code target} from {@code position} of the file; {@code what} names the bytes in errors. */
    @FunctionalInterface
    interface FileReads {
        void read(MemorySegment target, long position, Supplier<String> what);
    }

    /** Checksum table entries read at once: one 4 KiB block, the checksums of 4 MiB of pages. */
    static final int CHECKSUM_BLOCK = 1024;
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final int index;
    final RegionEntry entry;
    private final Path file;
    private final FileReads reads;
    /** Null until read and checked (off-heap, freed when the reader is unreachable). */
    private volatile MemorySegment bitmap;
    private final AtomicReferenceArray<int[]> checksumBlocks;

    RegionIndex(int index, RegionEntry entry, Path file, FileReads reads) {
        this.index = index;
        this.entry = entry;
        this.file = file;
        this.reads = reads;
        this.checksumBlocks = new AtomicReferenceArray<>(Math.toIntExact((entry.pages() + CHECKSUM_BLOCK - 1) / CHECKSUM_BLOCK));
    }

    /** {@code region 1 (ram-high)}. */
    String name() {
        return "region " + index + " (" + entry.name() + ")";
    }

    boolean present(long page) {
        MemorySegment b = bitmap;
        if (b == null) {
            b = readBitmap();
        }
        return (b.get(LONG_LE, (page >>> 6) * 8) >>> (page & 63) & 1) != 0;
    }

    private synchronized MemorySegment readBitmap() {
        MemorySegment b = bitmap;
        if (b == null) {
            b = Arena.ofAuto().allocate(entry.bitmapLength(), 8);
            reads.read(b, entry.bitmapOffset(), () -> "the " + name() + " bitmap");
            ThawFileValidator.checkCrc(file, name() + " bitmap", entry.bitmapCrc(), FileIo.crc32c(b));
            checkCount(b);
            bitmap = b;
        }
        return b;
    }

    /** The bitmap marks exactly the table's present pages, and no page beyond the region. */
    private void checkCount(MemorySegment b) {
        long set = 0;
        long words = b.byteSize() / 8;
        for (long w = 0; w < words; w++) {
            set += Long.bitCount(b.get(LONG_LE, w * 8));
        }
        int tail = (int) (entry.pages() & 63);
        if (tail != 0 && b.get(LONG_LE, (words - 1) * 8) >>> tail != 0) {
            throw new SnapshotException(file, name() + " bitmap has bits set beyond its " + entry.pages() + " pages");
        }
        if (set != entry.presentPages()) {
            throw new SnapshotException(file, name() + " bitmap marks " + set + " pages present, the region table says "
                    + entry.presentPages());
        }
    }

    /** The stored checksum of {@code page}; its block of the table is read once (racing readers read the same bytes). */
    int checksum(long page) {
        int block = (int) (page / CHECKSUM_BLOCK);
        int[] sums = checksumBlocks.get(block);
        if (sums == null) {
            long first = (long) block * CHECKSUM_BLOCK;
            int count = (int) Math.min(CHECKSUM_BLOCK, entry.pages() - first);
            byte[] bytes = new byte[count * 4];
            reads.read(MemorySegment.ofArray(bytes), entry.checksumsOffset() + first * 4,
                    () -> "the checksums of " + describeRun(first, first + count));
            sums = new int[count];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(sums);
            checksumBlocks.set(block, sums);
        }
        return sums[(int) (page % CHECKSUM_BLOCK)];
    }

    String pageName(long page) {
        return "page " + page + " of region " + entry.name() + " (guest address 0x"
                + Long.toHexString(entry.guestAddress() + (page << PAGE_SHIFT)) + ")";
    }

    String describeRun(long from, long to) {
        return to - from == 1 ? pageName(from) : "pages " + from + " to " + (to - 1) + " of region " + entry.name();
    }
}
