package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MappingTest {

    static final long SIZE = 6L << 20;
    static final int RW = Libc.PROT_READ | Libc.PROT_WRITE;
    static final int FLAGS = Libc.MAP_PRIVATE | Libc.MAP_NORESERVE;

    @Test
    void isolatedMappingsAreAlignedAndNeverMergeWithANeighbourOfTheSameKind() throws IOException {
        try (Mapping a = Mapping.isolated(SIZE, RW, FLAGS); Mapping b = Mapping.isolated(SIZE, RW, FLAGS)) {
            for (Mapping m : List.of(a, b)) {
                assertEquals(0, m.address() % Mapping.ISOLATION, "aligned to a huge page");
                m.segment().fill((byte) 1); // touched, so each is a populated mapping like its neighbour
                List<long[]> vmas = vmasOver(m.address(), SIZE);
                assertEquals(1, vmas.size(), "one mapping covers it");
                assertEquals(m.address(), vmas.getFirst()[0], "which starts where it starts");
                assertEquals(m.address() + SIZE, vmas.getFirst()[1], "and ends where it ends");
            }
        }
    }

    @Test
    void closingAnIsolatedMappingUnmapsItsGapsToo() throws IOException {
        Mapping m = Mapping.isolated(SIZE, RW, FLAGS);
        long from = m.address() - Mapping.ISOLATION;
        long length = SIZE + 2 * Mapping.ISOLATION;
        assertTrue(vmasOver(from, length).size() >= 3, "the mapping and a gap on each side");
        m.close();
        assertEquals(List.of(), vmasOver(m.address(), SIZE).stream().map(v -> v[0] + "-" + v[1]).toList());
        assertEquals(List.of(), vmasOver(from, Mapping.ISOLATION).stream().map(v -> v[0] + "-" + v[1]).toList(),
                "the gap below is gone");
    }

    @Test
    void anAlignedMappingStartsAtItsAlignmentAndLeavesNothingMappedAroundIt() throws IOException {
        try (Mapping m = Mapping.aligned(SIZE, Mapping.ISOLATION, RW, FLAGS)) {
            assertEquals(0, m.address() % Mapping.ISOLATION);
            List<long[]> vmas = vmasOver(m.address() - Mapping.ISOLATION, SIZE + 2 * Mapping.ISOLATION);
            assertTrue(vmas.stream().noneMatch(v -> v[0] < m.address() && v[1] > m.address() - Mapping.ISOLATION
                    || v[1] > m.address() + SIZE && v[0] < m.address() + SIZE + Mapping.ISOLATION
                    && v[0] >= m.address()), "the alignment slack is unmapped: " + vmas.size());
        }
    }

    @Test
    void aMappingMovedOverAnotherReplacesItsPagesAndIsClosed() throws IOException {
        try (Mapping target = Mapping.isolated(SIZE, RW, FLAGS)) {
            target.segment().fill((byte) 7);
            Mapping moving = Mapping.aligned(2L << 20, Mapping.ISOLATION, RW, FLAGS);
            moving.segment().fill((byte) 9);
            long source = moving.address();
            moving.moveOver(target.address() + (2L << 20));
            assertEquals(7, target.segment().get(ValueLayout.JAVA_BYTE, (2L << 20) - 1));
            assertEquals(9, target.segment().get(ValueLayout.JAVA_BYTE, 2L << 20));
            assertEquals(9, target.segment().get(ValueLayout.JAVA_BYTE, (4L << 20) - 1));
            assertEquals(7, target.segment().get(ValueLayout.JAVA_BYTE, 4L << 20));
            assertEquals(List.of(), vmasOver(source, 2L << 20).stream().map(v -> v[0] + "-" + v[1]).toList(),
                    "nothing is left where it was");
            assertThrows(IllegalStateException.class, () -> moving.segment().get(ValueLayout.JAVA_BYTE, 0));
            moving.close(); // closed already: unmaps nothing (someone else's mapping may be there by now)
            assertThrows(IllegalStateException.class, () -> moving.moveOver(target.address()));
            assertThrows(IllegalStateException.class, () -> target.moveOver(target.address()),
                    "an isolated mapping's reservation would stay behind");
        }
    }

    @Test
    void aMappingForThisThreadIsItsAlone() throws Exception {
        try (Mapping m = Mapping.alignedForThisThread(2L << 20, Mapping.ISOLATION, RW, FLAGS)) {
            assertEquals(0, m.address() % Mapping.ISOLATION);
            m.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 5);
            java.util.concurrent.CompletableFuture<Byte> elsewhere = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> m.segment().get(ValueLayout.JAVA_BYTE, 0), r -> Thread.ofPlatform().start(r));
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> elsewhere.get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof WrongThreadException, e.getCause().toString());
        }
    }

    /** The mappings of this process that overlap {@code [from, from + length)}, from /proc/self/maps. */
    static List<long[]> vmasOver(long from, long length) throws IOException {
        List<long[]> vmas = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String range = line.substring(0, line.indexOf(' '));
            long start = Long.parseUnsignedLong(range.substring(0, range.indexOf('-')), 16);
            long end = Long.parseUnsignedLong(range.substring(range.indexOf('-') + 1), 16);
            if (start < from + length && from < end) {
                vmas.add(new long[] {start, end});
            }
        }
        return vmas;
    }
}
