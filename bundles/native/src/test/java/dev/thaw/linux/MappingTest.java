package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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
    void anAlignedMappingStartsAtItsAlignmentAndGivesTheRestOfItsReservationBack() throws IOException {
        try (Mapping m = Mapping.aligned(SIZE, Mapping.ISOLATION, RW, FLAGS)) {
            assertEquals(0, m.address() % Mapping.ISOLATION);
            m.segment().fill((byte) 1);
            List<long[]> vmas = vmasOver(m.address(), SIZE);
            assertEquals(1, vmas.size(), "one mapping covers it");
            assertEquals(List.of(m.address(), m.address() + SIZE), List.of(vmas.getFirst()[0], vmas.getFirst()[1]),
                    "and it ends where the mapping ends: the slack after it was given back");
        }
    }

    @Test
    void aMappingForThisThreadIsItsAlone() throws Exception {
        try (Mapping m = Mapping.alignedForThisThread(2L << 20, Mapping.ISOLATION, RW, FLAGS)) {
            assertEquals(0, m.address() % Mapping.ISOLATION);
            m.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 5);
            CompletableFuture<Byte> elsewhere = CompletableFuture.supplyAsync(
                    () -> m.segment().get(ValueLayout.JAVA_BYTE, 0), r -> Thread.ofPlatform().start(r));
            ExecutionException e = assertThrows(ExecutionException.class, () -> elsewhere.get(10, TimeUnit.SECONDS));
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
