package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.api.snapshot.GuestMemory;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotSummary;
import dev.thaw.testing.FileBlocks;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Measures (prints, asserts only correctness) writing and reading 1 GiB of guest memory, half of it zero
 * pages: a 96 MiB run of data (longer than one write), then 64 KiB blocks that are data or zero at
 * random, then 96 MiB of zeros. Reads come from the page cache (the file was just written); the machines
 * this runs on are shared and noisy, so the numbers are indicative.
 */
@Timeout(120)
class ThawSnapshotSpeedTest {

    private static final long SIZE = 1L << 30;
    private static final long BLOCK = 64L << 10;

    @TempDir
    Path dir;

    @Test
    void writeAndReadOneGibibyteHalfZero() throws Exception {
        Path file = dir.resolve("speed.thaw");
        List<RegionLayout> layouts = List.of(new RegionLayout("ram0", 0, SIZE));
        try (Arena arena = Arena.ofConfined()) {
            long t = System.nanoTime();
            MemorySegment memory = arena.allocate(SIZE, 4096);
            long dataBytes = fill(memory);
            long fillNanos = System.nanoTime() - t;
            SnapshotSummary summary = new ThawSnapshotWriter().write(file, Snapshots.state(1, layouts),
                    List.of(new GuestMemory(layouts.getFirst(), memory)), Progress.NONE);
            assertEquals(dataBytes / 4096, summary.presentPages());

            // Read back into the same memory (fresh memory costs about 4 µs a page to fault in here), after
            // overwriting it, and compare checksums of the whole.
            int written = FileIo.crc32c(memory);
            long cold;
            long warm;
            try (SnapshotReader reader = new ThawSnapshotFormat().open(file)) {
                memory.fill((byte) 0x5a);
                long t0 = System.nanoTime();
                reader.readPages(0, 0, SIZE / 4096, memory);
                cold = System.nanoTime() - t0;
                assertEquals(written, FileIo.crc32c(memory));
                memory.fill((byte) 0x5a);
                t0 = System.nanoTime();
                reader.readPages(0, 0, SIZE / 4096, memory);
                warm = System.nanoTime() - t0;
                assertEquals(written, FileIo.crc32c(memory));
            }
            long allocated = FileBlocks.allocatedBytes(file);
            System.out.printf("1 GiB of memory, %d MiB of it data: write %.0f MB/s of memory (%d ms, fsync included); "
                            + "read all %.0f MB/s of memory, %.0f MB/s of data (%d ms; again: %d ms); file %,d bytes apparent, "
                            + "%,d allocated (stat; the writer counted %,d)%n",
                    dataBytes >> 20, mbPerS(SIZE, summary.nanos()), summary.nanos() / 1_000_000, mbPerS(SIZE, cold),
                    mbPerS(dataBytes, cold), cold / 1_000_000, warm / 1_000_000, summary.apparentSize(), allocated,
                    summary.allocatedSize());
            System.out.printf("(allocating and filling the memory took %d ms)%n", fillNanos / 1_000_000);
        }
    }

    private static double mbPerS(long bytes, long nanos) {
        return bytes / 1e6 / (nanos / 1e9);
    }

    /**
     * Fills the data blocks with random bytes (1 MiB of them, copied around, with each page's own number
     * in its first 8 bytes so no two pages are equal); returns how many bytes are data.
     */
    private static long fill(MemorySegment m) {
        byte[] noise = new byte[1 << 20];
        new Random(1).nextBytes(noise);
        MemorySegment source = MemorySegment.ofArray(noise);
        long data = 0;
        for (long block = 0; block < SIZE; block += BLOCK) {
            boolean isData = block < (96L << 20) || block < SIZE - (96L << 20) && (mix(block) & 1) == 0;
            if (isData) {
                MemorySegment.copy(source, mix(block) & (noise.length - BLOCK) & -4096, m, block, BLOCK);
                for (long page = block; page < block + BLOCK; page += 4096) {
                    m.set(ValueLayout.JAVA_LONG_UNALIGNED, page, page | 1);
                }
                data += BLOCK;
            }
        }
        return data;
    }

    private static long mix(long v) {
        v = (v ^ (v >>> 33)) * 0xff51_afd7_ed55_8ccdL;
        return v ^ (v >>> 29);
    }
}
