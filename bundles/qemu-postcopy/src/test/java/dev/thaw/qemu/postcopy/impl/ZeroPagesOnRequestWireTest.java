package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.qemu.postcopy.impl.RecordingDestination.PageRecord;
import dev.thaw.samples.impl.PackedSamples;
import dev.thaw.testing.ConfigProxy;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With zero pages on request (docs/qemu-postcopy.md 10.2), a page the file does not hold goes only when the
 * destination asks for it, every present page goes once, and EOF waits for the destination's word that its device
 * state is loaded: a zero page its device load asks for after the last present page went is still answered.
 */
class ZeroPagesOnRequestWireTest {

    @TempDir
    Path dir;

    @Test
    void zeroPagesGoOnlyWhenAskedForAndEofWaitsForTheDeviceStateEvenAfterTheLastPresentPage() throws Exception {
        Path file = new PackedSamples().write("qemu-pc.mr", dir);
        try (SnapshotReader reader = new QemuMappedRamFormat().open(file)) {
            MigrationFile mf = MigrationFile.of(reader);
            long early = zeroPage(reader, 0); // asked for while the package's devices load
            long late = zeroPage(reader, early + 1); // asked for once every present page went, devices still loading
            AtomicInteger present = new AtomicInteger();
            RecordingDestination.Script script = new RecordingDestination.Script() {
                @Override
                public byte[] afterPackage(RecordingDestination d) {
                    return RecordingDestination.request("pc.ram", early);
                }

                @Override
                public byte[] afterPage(RecordingDestination d, PageRecord r) {
                    if (r.data() != null && present.incrementAndGet() == mf.presentPages()) {
                        return RecordingDestination.request("pc.ram", late);
                    }
                    if (r.block().equals("pc.ram") && r.page() == late) {
                        return RecordingDestination.devicesLoaded();
                    }
                    return new byte[0];
                }
            };
            RestoreStats stats;
            List<PageRecord> records;
            try (RecordingDestination destination = new RecordingDestination(dir, script)) {
                try (PostcopySource source = PostcopySource.start(mf, destination.connect(), "test",
                        new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class)), Map.of(),
                        ServeProfile.none(mf), true)) {
                    stats = source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                }
                destination.done().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                records = destination.records();
            }
            assertEquals(new PageRecord("pc.ram", late, null).toString(), records.getLast().toString(),
                    "the late request answered, after every present page, before EOF");
            assertEveryPresentPageOnceAndOnlyTheAskedForZeroPages(reader, records, Set.of("pc.ram:" + early, "pc.ram:" + late));
            assertEquals(RestoreStats.Phase.COMPLETE, stats.phase());
            assertEquals(mf.presentPages(), stats.loadedPages(), "every present page is in");
            assertEquals(2, stats.faults());
            assertEquals(2, stats.pagesFault(), "the two zero pages, sent for their requests");
            assertEquals(mf.presentPages() + 2, stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground());
        }
    }

    /** The first page at or after {@code from} of the first block that the file does not hold. */
    private static long zeroPage(SnapshotReader reader, long from) {
        for (long p = from; p < reader.regions().getFirst().pages(); p++) {
            if (!reader.isPresent(0, p)) {
                return p;
            }
        }
        throw new AssertionError("the sample has no zero page in its first block from " + from);
    }

    private static void assertEveryPresentPageOnceAndOnlyTheAskedForZeroPages(SnapshotReader reader,
            List<PageRecord> records, Set<String> askedFor) {
        Set<String> seen = new HashSet<>();
        long presentPages = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(Protocol.PAGE_SIZE);
            for (PageRecord r : records) {
                int region = regionOf(reader, r.block());
                assertEquals(true, seen.add(r.block() + ":" + r.page()), r + " sent twice");
                if (reader.isPresent(region, r.page())) {
                    reader.readPages(region, r.page(), 1, page);
                    assertArrayEquals(page.toArray(ValueLayout.JAVA_BYTE), r.data(), r.toString());
                } else {
                    assertNull(r.data(), r + " is zero: a ZERO record");
                    assertEquals(true, askedFor.contains(r.block() + ":" + r.page()), r + " is zero and was not asked for");
                }
            }
            for (int i = 0; i < reader.regions().size(); i++) {
                presentPages += reader.regions().get(i).presentPages();
            }
        }
        assertEquals(presentPages + askedFor.size(), seen.size(), "every present page and the zero pages asked for");
    }

    private static int regionOf(SnapshotReader reader, String block) {
        for (int i = 0; i < reader.regions().size(); i++) {
            if (reader.regions().get(i).name().equals(block)) {
                return i;
            }
        }
        throw new AssertionError("no block " + block);
    }
}
