package dev.thaw.format.thaw.impl;

import static dev.thaw.format.thaw.impl.Layout.PAGE_SHIFT;
import static dev.thaw.format.thaw.impl.Layout.PAGE_SIZE;

import dev.thaw.api.snapshot.GuestMemory;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotSummary;
import dev.thaw.api.snapshot.SnapshotWriter;
import dev.thaw.format.thaw.impl.Layout.Header;
import dev.thaw.format.thaw.impl.Layout.Placement;
import dev.thaw.format.thaw.impl.Layout.Plan;
import dev.thaw.format.thaw.impl.Layout.RegionEntry;
import dev.thaw.support.files.IoFailures;
import dev.thaw.support.files.ReplacementFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;
import org.osgi.service.component.annotations.Component;

/**
 * Writes Thaw snapshot files (docs/snapshot-format.md).
 *
 * <p>Ordering: (1) the temporary file {@code .NAME.tmp-RANDOM} is created beside the target, readable
 * by its owner only (see {@link ReplacementFile}), and given its full (sparse) length; (2) each region's non-zero pages are written in runs straight from guest
 * memory, while its bitmap and checksum table are built; (3) region table, state, bitmaps and checksum
 * tables are written; (4) {@code fsync}; (5) only then the header, and {@code fsync} again, so the
 * temporary file itself never carries a valid header before all its content is durable; (6) the
 * replaced file's permission bits, and atomic rename onto the target; (7) {@code fsync} of the folder, so the rename is durable. A failure before
 * (6) deletes the temporary file and leaves the target untouched; a crash before (6) leaves at most a
 * temporary file without a valid header (no reader accepts it).
 *
 * <p>The reported allocated size is computed, not measured: the JDK exposes no block count of a file,
 * so it is the sum of the written extents, each rounded out to the file system's block size. On file
 * systems that neither compress nor preallocate this is what {@code stat} reports as blocks.
 */
@Component(service = SnapshotWriter.class)
public final class ThawSnapshotWriter implements SnapshotWriter {

    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Pages per write at most (FileIo.MAX_IO). */
    private static final long MAX_RUN_PAGES = FileIo.MAX_IO >>> PAGE_SHIFT;
    /** Progress is told at least every this many bytes of memory. */
    private static final long PROGRESS_STEP = 64L << 20;

    @Override
    public SnapshotSummary write(Path file, MachineState state, List<GuestMemory> memory, Progress progress) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(progress, "progress");
        long start = System.nanoTime();
        checkInput(file, state, memory);
        byte[] json;
        try {
            json = StateJson.write(state);
        } catch (IOException | RuntimeException e) {
            throw new SnapshotException(file, "cannot write the state as JSON: " + StateJson.describe(e), e);
        }
        try {
            StateLimits.check(json); // what a reader would refuse is not written
        } catch (StateLimits.Beyond e) {
            throw new SnapshotException(file, "cannot write the state: it is beyond what a machine has: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot write the state as JSON: " + StateJson.describe(e), e);
        }
        Plan plan = Layout.plan(state.memory(), json.length);

        Path target = file.toAbsolutePath().normalize();
        if (target.getParent() == null || target.getFileName() == null) {
            throw new SnapshotException(file, "cannot write: not a file's path");
        }
        ReplacementFile out;
        try {
            out = ReplacementFile.create(target);
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot create a temporary file beside it: " + IoFailures.describe(e), e);
        }
        Job job = new Job(file, out, plan, memory, progress, blockSize(target.getParent()));
        try (out) { // deletes the temporary file unless it replaced the target
            job.writeTemp(state.memory(), json);
            try {
                out.replaceTarget();
            } catch (IOException e) {
                throw new SnapshotException(file, "cannot rename " + out.temp().getFileName() + " into place: "
                        + IoFailures.describe(e), e);
            }
        }
        try {
            out.syncFolder();
        } catch (IOException e) {
            throw new SnapshotException(file, "written, but its folder could not be synced, so the file may not "
                    + "survive a crash: " + IoFailures.describe(e), e);
        }
        return new SnapshotSummary(plan.fileLength(), job.allocatedBytes(), job.presentPages,
                job.totalPages - job.presentPages, System.nanoTime() - start);
    }

    /** The memory must be the state's regions, in order, each backed by exactly its size of memory. */
    private static void checkInput(Path file, MachineState state, List<GuestMemory> memory) {
        List<RegionLayout> regions = state.memory();
        if (regions.isEmpty() || regions.size() > Layout.MAX_REGIONS) {
            throw new SnapshotException(file, "cannot write " + regions.size() + " memory regions (1 to "
                    + Layout.MAX_REGIONS + ")");
        }
        if (memory.size() != regions.size()) {
            throw new SnapshotException(file, "the state lists " + regions.size() + " memory regions, "
                    + memory.size() + " were given");
        }
        long total = 0;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < regions.size(); i++) {
            RegionLayout r = regions.get(i);
            GuestMemory m = memory.get(i);
            String problem = Regions.problem(r.name(), r.guestAddress(), r.size());
            if (problem != null) {
                throw new SnapshotException(file, "cannot write region " + i + ": " + problem);
            }
            if (!r.equals(m.layout())) {
                throw new SnapshotException(file, "memory region " + i + " is " + Regions.describe(m.layout())
                        + ", the state's is " + Regions.describe(r));
            }
            if (m.memory().byteSize() != r.size()) {
                throw new SnapshotException(file, "region " + r.name() + " is " + r.size() + " bytes, its memory "
                        + m.memory().byteSize());
            }
            if (names.contains(r.name())) {
                throw new SnapshotException(file, "two regions are named " + r.name());
            }
            names.add(r.name());
            total += r.size();
        }
        String overlap = Regions.overlap(regions);
        if (overlap != null) {
            throw new SnapshotException(file, "cannot write: " + overlap);
        }
        if (total != state.boot().memoryBytes()) {
            throw new SnapshotException(file, "the regions add up to " + total + " bytes, the boot request says "
                    + state.boot().memoryBytes());
        }
    }

    /** One write in progress. */
    private static final class Job {
        private final Path file;
        private final ReplacementFile out;
        private final Plan plan;
        private final List<GuestMemory> memory;
        private final Progress progress;
        private final long totalBytes;
        private final long totalPages;
        private final long blockSize;
        private long doneBytes;
        private long presentPages;
        /** Blocks of the metadata sections written, in bytes. */
        private long metadataAllocated;
        /** Whether the last region's last page, the end of the file, is written (else its last byte is). */
        private boolean lastPagePresent;
        private long nextReport;

        Job(Path file, ReplacementFile out, Plan plan, List<GuestMemory> memory, Progress progress, long blockSize) {
            this.file = file;
            this.blockSize = blockSize;
            this.out = out;
            this.plan = plan;
            this.memory = memory;
            this.progress = progress;
            this.totalBytes = memory.stream().mapToLong(m -> m.layout().size()).sum();
            this.totalPages = totalBytes >>> PAGE_SHIFT;
        }

        void writeTemp(List<RegionLayout> regions, byte[] json) {
            FileChannel channel = out.channel();
            try (Arena arena = Arena.ofConfined()) {
                // The file's full length at once, as holes. A channel cannot ftruncate a file longer, so its
                // last byte is written: one block more when the last page is a hole (allocatedBytes).
                FileIo.write(channel, new byte[1], plan.fileLength() - 1);
                progress.update(0, totalBytes);
                ByteBuffer table = ByteBuffer.allocate(regions.size() * Layout.REGION_ENTRY_SIZE);
                for (int i = 0; i < regions.size(); i++) {
                    RegionEntry entry = writeRegion(channel, arena, regions.get(i), memory.get(i).memory(),
                            plan.regions().get(i));
                    entry.encode(table, i);
                }
                FileIo.write(channel, table.array(), plan.regionTableOffset());
                FileIo.write(channel, json, plan.stateOffset());
                metadataAllocated += Layout.alignUp(table.capacity(), blockSize) + Layout.alignUp(json.length, blockSize);
                channel.force(true);
                Header header = new Header(Layout.VERSION, Layout.HEADER_SIZE, PAGE_SIZE, 0, plan.fileLength(),
                        plan.regionTableOffset(), regions.size(), Layout.REGION_ENTRY_SIZE,
                        Layout.crc32c(table.array(), 0, table.capacity()), Layout.crc32c(json, 0, json.length),
                        plan.stateOffset(), json.length);
                FileIo.write(channel, header.encode(), 0);
                metadataAllocated += Layout.alignUp(Layout.HEADER_SIZE, blockSize);
                channel.force(true);
                progress.update(totalBytes, totalBytes);
            } catch (IOException e) {
                throw new SnapshotException(file, "cannot write " + out.temp().getFileName() + " after " + doneBytes
                        + " of " + totalBytes + " bytes of memory: " + IoFailures.describe(e), e);
            } catch (SnapshotException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new SnapshotException(file, "stopped after " + doneBytes + " of " + totalBytes
                        + " bytes of memory: " + IoFailures.oneLine(String.valueOf(e)), e);
            }
        }

        /** Writes one region's present pages, bitmap and checksum table; returns its table entry. */
        private RegionEntry writeRegion(FileChannel channel, Arena arena, RegionLayout region, MemorySegment mem,
                Placement at) throws IOException {
            long pages = region.size() >>> PAGE_SHIFT;
            MemorySegment bitmap = arena.allocate(Layout.bitmapLength(pages), 8);
            MemorySegment checksums = arena.allocate(Layout.checksumsLength(pages), 4);
            CRC32C crc = new CRC32C();
            long present = 0;
            long runStart = -1;
            for (long chunk = 0; chunk < pages; chunk += MAX_RUN_PAGES) {
                long chunkPages = Math.min(MAX_RUN_PAGES, pages - chunk);
                ByteBuffer buffer = mem.asSlice(chunk << PAGE_SHIFT, chunkPages << PAGE_SHIFT).asByteBuffer();
                for (long p = chunk; p < chunk + chunkPages; p++) {
                    if (FileIo.isZeroPage(mem, p << PAGE_SHIFT)) {
                        if (runStart >= 0) {
                            writeRun(channel, mem, at, runStart, p);
                            runStart = -1;
                        }
                        continue;
                    }
                    int offset = (int) ((p - chunk) << PAGE_SHIFT);
                    checksums.set(INT_LE, p * 4, FileIo.crc32c(crc, buffer, offset, PAGE_SIZE));
                    bitmap.set(LONG_LE, (p >>> 6) * 8, bitmap.get(LONG_LE, (p >>> 6) * 8) | 1L << (p & 63));
                    present++;
                    if (runStart < 0) {
                        runStart = p;
                    } else if (p - runStart == MAX_RUN_PAGES) {
                        writeRun(channel, mem, at, runStart, p);
                        runStart = p;
                    }
                }
                doneBytes += chunkPages << PAGE_SHIFT;
                if (doneBytes >= nextReport) {
                    progress.update(doneBytes, totalBytes);
                    nextReport = doneBytes + PROGRESS_STEP;
                }
            }
            if (runStart >= 0) {
                writeRun(channel, mem, at, runStart, pages);
            }
            FileIo.write(channel, bitmap, at.bitmapOffset());
            FileIo.write(channel, checksums, at.checksumsOffset());
            metadataAllocated += Layout.alignUp(bitmap.byteSize(), blockSize)
                    + Layout.alignUp(checksums.byteSize(), blockSize);
            presentPages += present;
            lastPagePresent = (bitmap.get(LONG_LE, ((pages - 1) >>> 6) * 8) >>> ((pages - 1) & 63) & 1) != 0;
            return new RegionEntry(region.name(), region.guestAddress(), region.size(), at.pagesOffset(), present,
                    at.bitmapOffset(), at.checksumsOffset(), FileIo.crc32c(bitmap), FileIo.crc32c(checksums));
        }

        private void writeRun(FileChannel channel, MemorySegment mem, Placement at, long from, long to)
                throws IOException {
            FileIo.write(channel, mem.asSlice(from << PAGE_SHIFT, (to - from) << PAGE_SHIFT),
                    at.pagesOffset() + (from << PAGE_SHIFT));
        }

        /**
         * Bytes the file occupies: the present pages plus each metadata section in whole blocks (sections
         * and pages start on 4 KiB boundaries, so this is exact for blocks of up to 4 KiB), plus the block
         * of the file's last byte when the last page is a hole.
         */
        long allocatedBytes() {
            return (presentPages << PAGE_SHIFT) + metadataAllocated + (lastPagePresent ? 0 : blockSize);
        }
    }

    private static long blockSize(Path folder) {
        try {
            long size = Files.getFileStore(folder).getBlockSize();
            return size > 0 && Long.bitCount(size) == 1 ? size : PAGE_SIZE;
        } catch (IOException | UnsupportedOperationException e) {
            return PAGE_SIZE;
        }
    }
}
