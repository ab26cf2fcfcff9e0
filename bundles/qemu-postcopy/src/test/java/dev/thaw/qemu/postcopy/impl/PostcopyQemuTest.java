package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.testing.Await;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.ProcessResources;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.example.thaw.policy.topdown.TopDownPolicy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thaw serves a file QEMU 10 saved to an incoming QEMU 10 (TCG), which loads it through postcopy: the RAM it
 * ends up with is the file's, page for page, each page sent once; a running guest's requests go first; and a
 * destination that dies, a damaged file, a page that cannot be read each end it with one line and nothing left.
 */
class PostcopyQemuTest {

    /** What the firmware writes to RAM in this long becomes the saved file's pages (checked below). */
    static final long FIRMWARE_RUN_MILLIS = 500;
    static final Duration MIGRATION_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    static Path shared;
    static Path saved;

    @TempDir
    Path dir;

    private final QemuMappedRamFormat format = new QemuMappedRamFormat();

    @BeforeAll
    static void saveAGuestWithQemusOwnMigration() throws Exception {
        Qemu.assumeInstalled();
        saved = saveAGuest(shared);
    }

    /** The test machine's firmware run a moment and saved by QEMU's own migration to {@code saved.mr} in {@code dir}. */
    static Path saveAGuest(Path dir) throws Exception {
        Path saved = dir.resolve("saved.mr");
        try (Qemu source = Qemu.start(dir, "saver")) {
            Thread.sleep(FIRMWARE_RUN_MILLIS);
            source.qmp().execute("stop");
            source.saveMappedRam(saved);
        }
        try (SnapshotReader r = new QemuMappedRamFormat().open(saved)) {
            assertEquals("pc.ram", r.regions().getFirst().name());
            assertTrue(r.regions().getFirst().presentPages() > 16, "the firmware wrote to RAM: " + r.regions());
        }
        return saved;
    }

    @Test
    void aPausedDestinationEndsUpWithTheFilesRamPageForPageEachPageSentOnce() throws Exception {
        Path again = dir.resolve("again.mr");
        RestoreStats stats;
        try (SnapshotReader reader = format.open(saved); Qemu destination = incoming("dst", "-S")) {
            MigrationFile file = MigrationFile.of(reader);
            long start = System.nanoTime();
            try (PostcopySource source = serve(file, destination, new TopDownPolicy(), Map.of())) {
                stats = source.completion().get(MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
            destination.awaitMigration(Set.of("completed"), MIGRATION_TIMEOUT);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals("paused", destination.qmp().execute("query-status").path("status").asText());
            destination.saveMappedRam(again);
            System.out.printf("postcopy of %d pages (%d present), top-down: %d ms to completed; %d requests, pages %d "
                    + "requested, %d prefetched, %d background; resume %.1f ms, full load %.1f ms, request latency p50 %.2f ms "
                    + "p99 %.2f ms%n", stats.pages(), stats.presentPages(), millis, stats.faults(), stats.pagesFault(),
                    stats.pagesPrefetch(), stats.pagesBackground(), stats.resumeLatency() / 1e6, stats.fullLoadTime() / 1e6,
                    stats.faultLatencyP50() / 1e6, stats.faultLatencyP99() / 1e6);
            assertEquals(file.pages(), stats.pages());
        }
        assertEquals(RestoreStats.Phase.COMPLETE, stats.phase());
        assertEquals(stats.pages(), stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground(),
                "every page sent, none twice: " + stats);
        assertEquals(stats.presentPages(), stats.loadedPages(), "every present page read once");
        assertEquals(stats.presentPages() * Protocol.PAGE_SIZE, stats.bytesRead());
        assertEquals(0, stats.policyErrors(), stats.policyProblem());
        assertTrue(stats.resumeLatency() > 0 && stats.fullLoadTime() >= stats.resumeLatency(), stats.toString());
        assertSameRam(saved, again);
    }

    @Test
    void aRunningGuestsRequestsAreServedAtOnceAndLoadRemainingSendsTheRest() throws Exception {
        try (SnapshotReader reader = format.open(saved); Qemu destination = incoming("dst")) {
            MigrationFile file = MigrationFile.of(reader);
            // demand loading first: nothing but requests goes until loadRemaining, so every page the devices
            // and the running guest touch is requested and served ahead of the background
            try (PostcopySource source = serve(file, destination, sequential(), Map.of("background", false))) {
                Await.until("the device state loaded (its pages were requested and served)", MIGRATION_TIMEOUT,
                        () -> source.stats().resumeLatency() >= 0);
                Await.until("the running guest's first page requests", MIGRATION_TIMEOUT,
                        () -> source.stats().pagesFault() > 0);
                RestoreStats before = source.stats();
                assertEquals(0, before.pagesBackground(), before.toString());
                assertEquals("running", destination.qmp().execute("query-status").path("status").asText());
                source.loadRemaining();
                RestoreStats stats = source.completion().get(MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                System.out.printf("running guest: %d requests before loadRemaining (%d pages, %d prefetched), %d in all; "
                        + "latency p50 %.2f ms p99 %.2f ms%n", before.faults(), before.pagesFault(), before.pagesPrefetch(),
                        stats.faults(), stats.faultLatencyP50() / 1e6, stats.faultLatencyP99() / 1e6);
                assertTrue(stats.faults() > 0 && stats.faultLatencyP50() > 0, stats.toString());
                assertEquals(stats.pages(), stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground());
            }
            destination.awaitMigration(Set.of("completed"), MIGRATION_TIMEOUT);
            assertEquals("running", destination.qmp().execute("query-status").path("status").asText());
        }
    }

    @Test
    void aDestinationKilledMidStreamEndsTheSourceWithOneLineAndNothingLeft() throws Exception {
        ProcessResources.Held before = ProcessResources.now(dir);
        long pid;
        RestoreException e;
        try (SnapshotReader reader = format.open(saved); Qemu destination = incoming("dst", "-S")) {
            pid = destination.pid();
            MigrationFile file = MigrationFile.of(reader);
            try (PostcopySource source = serve(file, destination, sequential(), Map.of("background", false))) {
                Await.until("the device state loaded", MIGRATION_TIMEOUT, () -> source.stats().resumeLatency() >= 0);
                destination.kill(); // mid-stream: most pages are not sent
                ExecutionException failed = assertThrows(ExecutionException.class,
                        () -> source.completion().get(MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
                e = (RestoreException) failed.getCause();
                assertEquals(RestoreStats.Phase.FAILED, source.stats().phase());
            }
        }
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith("postcopy of " + saved + " to unix:" + dir.resolve("dst.sock") + ": the destination "), m);
        assertTrue(m.contains("closed the connection after") || m.contains("hung up after"), m);
        Qemu.assertGone(pid);
        assertNothingLeft(dir, before);
    }

    @Test
    void aTruncatedFileIsRefusedBeforeAnythingIsSent() throws Exception {
        Path cut = dir.resolve("cut.mr");
        Files.copy(saved, cut);
        try (RandomAccessFile f = new RandomAccessFile(cut.toFile(), "rw")) {
            f.setLength(f.length() - 4096); // the device sections and the end are gone
        }
        try (Qemu destination = incoming("dst", "-S")) {
            SnapshotException e = assertThrows(SnapshotException.class, () -> {
                try (SnapshotReader reader = format.open(cut)) {
                    MigrationFile.of(reader);
                }
            });
            assertTrue(e.getMessage().startsWith(cut + ": "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertEquals("setup", destination.qmp().execute("query-migrate").path("status").asText(),
                    "nobody connected to the destination");
        }
    }

    @Test
    void aPageThatCannotBeReadEndsTheSourceWithOneLineNamingTheFile() throws Exception {
        Path shrinking = dir.resolve("shrinking.mr");
        Files.copy(saved, shrinking);
        ProcessResources.Held before = ProcessResources.now(dir);
        long pid;
        RestoreException e;
        try (SnapshotReader reader = format.open(shrinking); Qemu destination = incoming("dst", "-S")) {
            pid = destination.pid();
            MigrationFile file = MigrationFile.of(reader); // checked and read what it needs: all well so far
            try (RandomAccessFile f = new RandomAccessFile(shrinking.toFile(), "rw")) {
                f.setLength(1 << 20); // now the pages are gone (the first block's start at 1 MiB or later)
            }
            try (PostcopySource source = serve(file, destination, sequential(), Map.of())) {
                ExecutionException failed = assertThrows(ExecutionException.class,
                        () -> source.completion().get(MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
                e = (RestoreException) failed.getCause();
            }
        }
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith("postcopy to unix:" + dir.resolve("dst.sock") + ": " + shrinking + ": "), m);
        assertTrue(m.contains("page"), m);
        Qemu.assertGone(pid);
        assertNothingLeft(dir, before);
    }

    /** An incoming QEMU with postcopy-ram on, listening on {@code NAME.sock} in the test's folder. */
    private Qemu incoming(String name, String... extra) throws IOException {
        return incoming(dir, name, extra);
    }

    /** An incoming QEMU with postcopy-ram on, listening on {@code NAME.sock} in {@code dir}. */
    static Qemu incoming(Path dir, String name, String... extra) throws IOException {
        String[] args = new String[extra.length + 2];
        System.arraycopy(extra, 0, args, 0, extra.length);
        args[extra.length] = "-incoming";
        args[extra.length + 1] = "defer";
        Qemu q = Qemu.start(dir, name, args);
        try {
            q.capabilities(Map.of("postcopy-ram", true));
            q.qmp().execute("migrate-incoming", Map.of("uri", "unix:" + dir.resolve(name + ".sock")));
            return q;
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
    }

    private PostcopySource serve(MigrationFile file, Qemu destination, PagePolicy policy, Map<String, Object> parameters)
            throws IOException {
        Path socket = dir.resolve("dst.sock");
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        return PostcopySource.start(file, channel, "unix:" + socket, policy, parameters);
    }

    private static SequentialPolicy sequential() {
        return new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class));
    }

    /** The two files hold the same blocks, and every page of each block is the same. */
    static void assertSameRam(Path a, Path b) {
        QemuMappedRamFormat format = new QemuMappedRamFormat();
        try (SnapshotReader ra = format.open(a); SnapshotReader rb = format.open(b); Arena arena = Arena.ofConfined()) {
            assertEquals(ra.regions().stream().map(r -> r.name() + ":" + r.size()).toList(),
                    rb.regions().stream().map(r -> r.name() + ":" + r.size()).toList());
            for (int i = 0; i < ra.regions().size(); i++) {
                SnapshotRegion region = ra.regions().get(i);
                MemorySegment pa = arena.allocate(region.size(), Protocol.PAGE_SIZE);
                MemorySegment pb = arena.allocate(region.size(), Protocol.PAGE_SIZE);
                ra.readPages(i, 0, region.pages(), pa);
                rb.readPages(i, 0, region.pages(), pb);
                long differ = 0;
                for (long p = 0; p < region.pages(); p++) {
                    long at = p * Protocol.PAGE_SIZE;
                    if (pa.asSlice(at, Protocol.PAGE_SIZE).mismatch(pb.asSlice(at, Protocol.PAGE_SIZE)) >= 0) {
                        differ++;
                    }
                }
                assertEquals(0, differ, "pages of " + region.name() + " that differ");
            }
        }
    }

    /** No file descriptor opened and no Thaw thread started since {@code before} is still there. */
    static void assertNothingLeft(Path dir, ProcessResources.Held before) throws Exception {
        Await.until("the source's threads to end", Duration.ofSeconds(5), () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("thaw-postcopy")));
        ProcessResources.Held after = ProcessResources.now(dir);
        Set<String> added = new HashSet<>(after.fds());
        added.removeAll(before.fds());
        assertEquals(Set.of(), added, "file descriptors left open");
        assertEquals(Set.of(), after.threads().stream().filter(t -> !before.threads().contains(t))
                .filter(t -> t.getName().startsWith("thaw")).map(Thread::getName).collect(Collectors.toSet()));
    }
}
