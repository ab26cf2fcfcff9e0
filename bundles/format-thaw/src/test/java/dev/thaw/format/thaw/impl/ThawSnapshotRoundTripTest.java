package dev.thaw.format.thaw.impl;

import static dev.thaw.format.thaw.impl.Snapshots.assertSameContent;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.GuestMemory;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.api.snapshot.SnapshotSummary;
import dev.thaw.format.thaw.impl.Snapshots.Memory;
import dev.thaw.testing.FileBlocks;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What is written reads back the same: state, every page, presence, counts; and the file is sparse. */
@Timeout(60)
class ThawSnapshotRoundTripTest {

    @TempDir
    Path dir;

    final ThawSnapshotWriter writer = new ThawSnapshotWriter();
    final ThawSnapshotFormat format = new ThawSnapshotFormat();

    @Test
    void stateAndEveryPageReadBackAsWritten() throws Exception {
        Path file = dir.resolve("vm.thaw");
        try (Arena arena = Arena.ofShared()) {
            Memory memory = Snapshots.memory(arena, 7, Snapshots.twoRegions(6L << 20, (2L << 20) + 3 * 4096));
            MachineState state = Snapshots.state(7, memory.layouts());
            List<long[]> reports = new ArrayList<>();
            SnapshotSummary summary = writer.write(file, state, memory.regions(), (done, total) -> reports.add(new long[] {done, total}));

            assertEquals(memory.nonZeroPages(), summary.presentPages());
            assertEquals(memory.totalPages() - memory.nonZeroPages(), summary.zeroPages());
            assertEquals(Files.size(file), summary.apparentSize());
            assertTrue(summary.nanos() > 0);
            long total = 8L * 1024 * 1024 + 3 * 4096;
            assertArrayEquals(new long[] {0, total}, reports.getFirst());
            assertArrayEquals(new long[] {total, total}, reports.getLast());
            for (int i = 1; i < reports.size(); i++) {
                assertTrue(reports.get(i)[0] >= reports.get(i - 1)[0], "progress never goes back");
            }

            try (SnapshotReader reader = format.open(file)) {
                assertEquals(file, reader.file());
                assertEquals("thaw", reader.format());
                assertEquals(1, reader.version());
                assertEquals(state, reader.state().orElseThrow());
                assertEquals(memory.regions().size(), reader.regions().size());
                long present = 0;
                for (int i = 0; i < memory.regions().size(); i++) {
                    GuestMemory g = memory.regions().get(i);
                    SnapshotRegion r = reader.regions().get(i);
                    assertEquals(new SnapshotRegion(g.layout().name(), g.layout().guestAddress(), g.layout().size(), 4096,
                            r.presentPages()), r);
                    for (long p = 0; p < r.pages(); p++) {
                        boolean nonZero = !FileIo.isZeroPage(g.memory(), p * 4096);
                        assertEquals(nonZero, reader.isPresent(i, p), "region " + i + " page " + p);
                        present += nonZero ? 1 : 0;
                    }
                }
                assertEquals(memory.nonZeroPages(), present);
                assertEquals(present, reader.regions().stream().mapToLong(SnapshotRegion::presentPages).sum());
                assertSameContent(reader, memory);
                assertSubRangesReadBack(reader, memory, arena);
            }
        }
    }

    /** Any window of pages, starting and ending anywhere, reads back the same. */
    private static void assertSubRangesReadBack(SnapshotReader reader, Memory memory, Arena arena) {
        Random r = new Random(11);
        for (int n = 0; n < 200; n++) {
            int region = r.nextInt(memory.regions().size());
            MemorySegment expected = memory.regions().get(region).memory();
            long pages = expected.byteSize() / 4096;
            long first = r.nextLong(pages);
            long count = 1 + r.nextLong(Math.min(pages - first, 100));
            MemorySegment target = arena.allocate(count * 4096);
            target.fill((byte) 0x77);
            reader.readPages(region, first, count, target);
            assertEquals(-1, target.mismatch(expected.asSlice(first * 4096, count * 4096)), "pages " + first + "+" + count);
        }
        MemorySegment none = arena.allocate(4096);
        reader.readPages(0, 3, 0, none);
    }

    @Test
    void mostlyZeroMemoryMakesASparseFile() throws Exception {
        Path file = dir.resolve("sparse.thaw");
        try (Arena arena = Arena.ofConfined()) {
            List<RegionLayout> layouts = List.of(new RegionLayout("ram0", 0, 64L << 20));
            MemorySegment m = arena.allocate(64L << 20, 4096);
            Random r = new Random(3);
            for (int i = 0; i < 160; i++) { // about 1% of the pages, some of them in runs
                long page = r.nextLong(16384 - 4);
                for (int k = 0; k <= i % 4; k++) {
                    Snapshots.fill(m, page + k, Snapshots.Kind.RANDOM, r);
                }
            }
            SnapshotSummary summary = writer.write(file, Snapshots.state(3, layouts),
                    List.of(new GuestMemory(layouts.getFirst(), m)), Progress.NONE);
            long allocated = FileBlocks.allocatedBytes(file);
            System.out.printf("sparse file: apparent %,d bytes, allocated %,d (stat), %,d (writer's count), %d pages present%n",
                    summary.apparentSize(), allocated, summary.allocatedSize(), summary.presentPages());
            assertTrue(summary.apparentSize() >= 65L << 20);
            assertTrue(allocated < summary.apparentSize() / 20, "allocated " + allocated);
            assertTrue(summary.allocatedSize() < summary.apparentSize() / 20);
            // The writer counts written extents; the file system may add a few blocks of extent tree.
            assertTrue(Math.abs(allocated - summary.allocatedSize()) <= 64 * 1024,
                    "stat says " + allocated + ", writer " + summary.allocatedSize());
            try (SnapshotReader reader = format.open(file)) {
                MemorySegment back = arena.allocate(64L << 20);
                reader.readPages(0, 0, 16384, back);
                assertEquals(-1, back.mismatch(m));
            }
        }
    }

    @Test
    void pageRunsLongerThanOneWriteAndAllZeroRegionsRoundTrip() throws Exception {
        Path file = dir.resolve("runs.thaw");
        try (Arena arena = Arena.ofShared()) {
            // 80 MiB without a zero page: runs are split at 64 MiB per write and per read.
            List<RegionLayout> layouts = List.of(new RegionLayout("full", 0, 80L << 20), new RegionLayout("empty", 1L << 32, 1L << 20),
                    new RegionLayout("one-page", 2L << 32, 4096));
            MemorySegment full = arena.allocate(80L << 20, 4096);
            for (long at = 0; at < full.byteSize(); at += 8) {
                full.set(ValueLayout.JAVA_LONG_UNALIGNED, at, at * 0x9e37_79b9_7f4a_7c15L | 1);
            }
            MemorySegment onePage = arena.allocate(4096);
            onePage.set(ValueLayout.JAVA_BYTE, 4095, (byte) 9);
            Memory memory = new Memory(List.of(new GuestMemory(layouts.get(0), full),
                    new GuestMemory(layouts.get(1), arena.allocate(1L << 20)), new GuestMemory(layouts.get(2), onePage)), 20481);
            SnapshotSummary summary = writer.write(file, Snapshots.state(5, layouts), memory.regions(), Progress.NONE);
            assertEquals(20481, summary.presentPages());
            assertEquals(256, summary.zeroPages());
            try (SnapshotReader reader = format.open(file)) {
                assertEquals(List.of(20480L, 0L, 1L), reader.regions().stream().map(SnapshotRegion::presentPages).toList());
                assertSameContent(reader, memory);
            }
        }
    }

    @Test
    void concurrentReadersSeeTheSamePages() throws Exception {
        Path file = dir.resolve("threads.thaw");
        try (Arena arena = Arena.ofShared()) {
            Memory memory = Snapshots.memory(arena, 9, List.of(new RegionLayout("ram0", 0, 16L << 20)));
            writer.write(file, Snapshots.state(9, memory.layouts()), memory.regions(), Progress.NONE);
            MemorySegment expected = memory.regions().getFirst().memory();
            try (SnapshotReader reader = format.open(file); ExecutorService pool = Executors.newFixedThreadPool(4)) {
                List<Future<?>> results = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int seed = t;
                    results.add(pool.submit(() -> {
                        Random r = new Random(seed);
                        try (Arena local = Arena.ofConfined()) {
                            MemorySegment target = local.allocate(64 * 4096);
                            for (int n = 0; n < 300; n++) {
                                long first = r.nextLong(4096 - 64);
                                reader.readPages(0, first, 64, target);
                                assertEquals(-1, target.mismatch(expected.asSlice(first * 4096, 64 * 4096)));
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : results) {
                    f.get(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void anInterruptedReadFailsAloneAndOtherReadsCarryOn() throws Exception {
        Path file = dir.resolve("interrupt.thaw");
        try (Arena arena = Arena.ofShared()) {
            Memory memory = Snapshots.memory(arena, 13, List.of(new RegionLayout("ram0", 0, 4L << 20)));
            writer.write(file, Snapshots.state(13, memory.layouts()), memory.regions(), Progress.NONE);
            try (SnapshotReader reader = format.open(file)) {
                long page = 0;
                while (!reader.isPresent(0, page)) {
                    page++;
                }
                long present = page;
                MemorySegment target = arena.allocate(4096);
                SnapshotException[] failure = new SnapshotException[1];
                Thread t = Thread.ofPlatform().start(() -> {
                    Thread.currentThread().interrupt();
                    try {
                        reader.readPages(0, present, 1, target);
                    } catch (SnapshotException e) {
                        failure[0] = e;
                    }
                });
                t.join();
                assertEquals(file + ": interrupted while reading page " + present + " of region ram0 (guest address 0x"
                        + Long.toHexString(present * 4096) + ")", failure[0].getMessage());
                assertSameContent(reader, memory);
            }
        }
    }

    @Test
    void readingAfterCloseFailsAndCallerMistakesAreNoFileProblems() throws Exception {
        Path file = dir.resolve("closed.thaw");
        try (Arena arena = Arena.ofShared()) {
            Memory memory = Snapshots.memory(arena, 17, List.of(new RegionLayout("ram0", 0, 1L << 20)));
            writer.write(file, Snapshots.state(17, memory.layouts()), memory.regions(), Progress.NONE);
            SnapshotReader reader = format.open(file);
            MemorySegment target = arena.allocate(4096);
            assertThrows(IndexOutOfBoundsException.class, () -> reader.readPages(1, 0, 1, target));
            assertThrows(IndexOutOfBoundsException.class, () -> reader.readPages(0, 255, 2, target));
            assertThrows(IndexOutOfBoundsException.class, () -> reader.readPages(0, -1, 1, target));
            assertThrows(IndexOutOfBoundsException.class, () -> reader.readPages(0, 0, 2, target));
            assertThrows(IndexOutOfBoundsException.class, () -> reader.isPresent(0, 256));
            reader.close();
            reader.close();
            Snapshots.assertProblem(file, "closed", () -> reader.readPages(0, 0, 1, target));
        }
    }

    @Test
    void probeRecognisesTheMagicOnly() {
        assertTrue(format.probe("THAWSNAP\u0001\u0000".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(format.probe("THAWSNA".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(format.probe("QEVM\u0000\u0000\u0000\u0003".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(format.probe(new byte[0]));
        assertEquals("thaw", format.name());
        assertFalse(format.description().isBlank());
    }
}
