package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.qemu.postcopy.impl.RecordingDestination.PageRecord;
import dev.thaw.samples.impl.PackedSamples;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.ProcessResources;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What goes over the wire, decoded by {@link RecordingDestination} from a file QEMU 10 wrote (a pc machine with
 * 32 MiB and a VGA card): every page of every block exactly once, as the file holds it; a requested page first;
 * and what a destination that asks for what the file lacks, fails, or hangs up gets: one line, nothing left.
 */
class PostcopyWireTest {

    static final int TIMEOUT_SECONDS = 10;

    @TempDir
    Path dir;
    Path file;

    @BeforeEach
    void sample() {
        file = new PackedSamples().write("qemu-pc.mr", dir);
    }

    @Test
    void everyPageOfEveryBlockGoesOnceAsTheFileHoldsItTheRequestedOneFirst() throws Exception {
        // pure demand loading until the requested page came, then the rest: the first records must be the request's
        String lastBlock = "0000:00:02.0/vga.rom";
        AtomicReference<PostcopySource> running = new AtomicReference<>();
        RecordingDestination.Script script = new RecordingDestination.Script() {
            @Override
            public byte[] afterPackage(RecordingDestination d) {
                return RecordingDestination.request("pc.ram", 0x1ffe);
            }

            @Override
            public byte[] afterPage(RecordingDestination d, PageRecord r) {
                if (r.block().equals("pc.ram") && r.page() == 0x1ffe) {
                    // with it, a request for the page sent already: not sent again, but counted
                    byte[] next = RecordingDestination.request(lastBlock, 3);
                    byte[] again = RecordingDestination.request("pc.ram", 0x1ffe);
                    byte[] both = java.util.Arrays.copyOf(next, next.length + again.length);
                    System.arraycopy(again, 0, both, next.length, again.length);
                    return both;
                }
                if (r.block().equals(lastBlock) && r.page() == 3) {
                    // The rest only once the source has read all three requests: the stream may end as soon as
                    // every page is sent, and a request read after that would not be counted.
                    awaitFaults(running.get(), 3);
                    running.get().loadRemaining(); // the requests served on demand: now the rest
                }
                return new byte[0];
            }
        };
        try (SnapshotReader reader = new QemuMappedRamFormat().open(file);
                RecordingDestination destination = new RecordingDestination(dir, script)) {
            MigrationFile mf = MigrationFile.of(reader);
            RestoreStats stats;
            try (PostcopySource source = PostcopySource.start(mf, SocketChannel.open(UnixDomainSocketAddress.of(
                    destination.socket())), "test", sequential(), Map.of("background", false))) {
                running.set(source);
                stats = source.completion().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            destination.done().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            List<PageRecord> records = destination.records();
            // the request, then the policy's aligned 64 KiB around it: pc.ram pages 0x1ff0 to 0x1fff
            assertEquals("pc.ram", records.getFirst().block());
            assertEquals(0x1ffe, records.getFirst().page());
            for (int i = 1; i < 16; i++) {
                assertEquals("pc.ram", records.get(i).block());
                assertEquals(0x1ff0 + i - 1 + (i - 1 >= 0x0e ? 1 : 0), records.get(i).page(), "record " + i);
            }
            assertEquals(reader.regions().stream().map(r -> r.name() + "=" + r.size()).toList(),
                    destination.blocks.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
            assertEveryPageOnceAsTheFileHoldsIt(reader, records);
            assertEquals(mf.pages(), stats.pages());
            assertEquals(records.size(), stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground());
            // the vga.rom request's aligned 64 KiB holds its page and 15 others, some in the block before
            assertEquals(lastBlock, records.get(16).block());
            assertEquals(3, records.get(16).page());
            assertEquals(3, stats.faults());
            assertEquals(2, stats.pagesFault(), "each request's page, sent for it; none for the third");
            assertEquals(30, stats.pagesPrefetch());
        }
    }

    @Test
    void requestsForWhatTheFileLacksFailuresAndHangUpsEndTheSourceWithOneLineAndNothingLeft() throws Throwable {
        String where = "postcopy of " + file + " to test: ";
        assertEquals(where + "the destination asked for 0x1000 bytes at 0x0 of RAM block bogus, which the file does not have",
                failure(afterPackage(RecordingDestination.request("bogus", 0))));
        assertEquals(where + "the destination asked for 0x1000 bytes at 0x2000000 of RAM block pc.ram, which the file does "
                + "not have (it has 0x2000000 bytes)", failure(afterPackage(RecordingDestination.request("pc.ram", 0x2000))));
        String shut = failure(afterPackage(RecordingDestination.shut(1)));
        assertTrue(shut.matches("\\Q" + where + "the destination failed (SHUT 1) after \\E\\d+ of 9314 pages \\(its own error is on its stderr\\)"), shut);
        String hungUp = failure(new RecordingDestination.Script() {
            @Override
            public byte[] afterPackage(RecordingDestination d) {
                try {
                    d.hangUp();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return new byte[0];
            }
        });
        assertTrue(hungUp.startsWith(where + "the destination "), hungUp);
        assertTrue(hungUp.contains("closed the connection after") || hungUp.contains("hung up after"), hungUp);

        ProcessResources.assertNothingLeftBy(dir, 10, () -> failure(afterPackage(RecordingDestination.request("bogus", 0))));
    }

    private static RecordingDestination.Script afterPackage(byte[] reply) {
        return new RecordingDestination.Script() {
            @Override
            public byte[] afterPackage(RecordingDestination d) {
                return reply;
            }
        };
    }

    /** Serves the sample to a destination that follows {@code script}, and returns the one line the source failed with. */
    private String failure(RecordingDestination.Script script) throws Exception {
        try (SnapshotReader reader = new QemuMappedRamFormat().open(file);
                RecordingDestination destination = new RecordingDestination(dir, script);
                PostcopySource source = PostcopySource.start(MigrationFile.of(reader), SocketChannel.open(
                        UnixDomainSocketAddress.of(destination.socket())), "test", sequential(), Map.of("background", false))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> source.completion().get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
            String line = ((RestoreException) e.getCause()).getMessage();
            assertFalse(line.contains("\n"), line);
            assertEquals(RestoreStats.Phase.FAILED, source.stats().phase());
            return line;
        }
    }

    static void assertEveryPageOnceAsTheFileHoldsIt(SnapshotReader reader, List<PageRecord> records) {
        Map<String, Integer> region = new HashMap<>();
        for (int i = 0; i < reader.regions().size(); i++) {
            region.put(reader.regions().get(i).name(), i);
        }
        Map<String, long[]> seen = new HashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(Protocol.PAGE_SIZE);
            for (PageRecord r : records) {
                int i = region.get(r.block());
                SnapshotRegion g = reader.regions().get(i);
                seen.computeIfAbsent(r.block(), b -> new long[(int) g.pages()])[(int) r.page()]++;
                if (reader.isPresent(i, r.page())) {
                    reader.readPages(i, r.page(), 1, page);
                    assertArrayEquals(page.toArray(ValueLayout.JAVA_BYTE), r.data(), r.block() + " page " + r.page());
                } else {
                    assertNull(r.data(), r.block() + " page " + r.page() + " is zero: a ZERO record");
                }
            }
        }
        for (SnapshotRegion g : reader.regions()) {
            long[] counts = seen.get(g.name());
            for (int p = 0; p < g.pages(); p++) {
                assertEquals(1, counts[p], g.name() + " page " + p + " sent this often");
            }
        }
    }

    private static SequentialPolicy sequential() {
        return new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class));
    }

    /** Waits until {@code source} has counted {@code n} requests (it reads them on its return-path thread). */
    static void awaitFaults(PostcopySource source, long n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (source.stats().faults() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the source counted " + source.stats().faults() + " of " + n + " requests in "
                        + TIMEOUT_SECONDS + " s");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(50_000);
        }
    }
}
