package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.support.qemu.QmpException;
import dev.thaw.testing.Await;
import dev.thaw.testing.ConfigProxy;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Zero pages on request against QEMU 10 (TCG, a pc machine, whose option-ROM area the device load reads:
 * docs/qemu-postcopy.md 9.3 and 10.2): the destination completes, the pages never sent read as zeros, and its RAM
 * is the file's page for page; paused or running, whether the device load's requests race the last present pages
 * or come while nothing else goes, and while the monitor reads zero pages in QEMU's main thread as EOF goes out.
 * Repeated, as the end races what the destination still asks for.
 */
class ZeroPagesOnRequestQemuTest {

    /** Rounds of each case, so that the end lands before, during and after the requests ({@code -Dthaw.zero.rounds}). */
    static final int ROUNDS = Integer.getInteger("thaw.zero.rounds", 4);

    @TempDir
    Path dir;
    /** The pc guest QEMU saved for this test (each test its own: they are two). */
    Path saved;

    @BeforeEach
    void aGuestSavedByQemu() throws Exception {
        Qemu.assumeInstalled();
        saved = PostcopyQemuTest.saveAGuest(dir);
    }

    @Test
    void aPausedDestinationEndsUpWithTheFilesRamPageForPageThoughItsZeroPagesWentOnlyWhenAskedFor() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            // odd rounds: nothing but requests until the device state is loaded, so its zero pages go asked for alone
            boolean demandFirst = round % 2 == 1;
            Path again = dir.resolve("again-" + round + ".mr");
            RestoreStats stats;
            try (SnapshotReader reader = new QemuMappedRamFormat().open(saved);
                    Qemu destination = PostcopyQemuTest.incoming(dir, "dst" + round, "-S")) {
                MigrationFile file = MigrationFile.of(reader);
                try (PostcopySource source = serve(file, "dst" + round, demandFirst)) {
                    if (demandFirst) {
                        Await.until("the device state loaded", PostcopyQemuTest.MIGRATION_TIMEOUT,
                                () -> source.stats().resumeLatency() >= 0);
                        source.loadRemaining();
                    }
                    stats = source.completion().get(PostcopyQemuTest.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                }
                destination.awaitMigration(Set.of("completed"), PostcopyQemuTest.MIGRATION_TIMEOUT);
                assertEquals("paused", destination.qmp().execute("query-status").path("status").asText());
                destination.saveMappedRam(again);
                assertSentPresentPagesAndAskedForZeroPagesOnly(file, stats);
                System.out.printf("paused, round %d%s: %d requests, %d pages sent of %d (%d present)%n", round,
                        demandFirst ? " (demand first)" : "", stats.faults(), stats.pagesFault() + stats.pagesPrefetch()
                        + stats.pagesBackground(), file.pages(), file.presentPages());
            }
            PostcopyQemuTest.assertSameRam(saved, again);
        }
    }

    @Test
    void aRunningDestinationCompletesWhileItsMonitorReadsZeroPagesAsEofGoesAndReadsThemAsZeros() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            try (SnapshotReader reader = new QemuMappedRamFormat().open(saved);
                    Qemu destination = PostcopyQemuTest.incoming(dir, "dst" + round)) {
                MigrationFile file = MigrationFile.of(reader);
                List<Long> zeroPages = zeroPagesAboveOneMiB(file, round);
                AtomicBoolean completed = new AtomicBoolean();
                AtomicLong readsAfterEnd = new AtomicLong();
                // QEMU's main thread touches pages not sent before, during and after the end: each touch before EOF
                // is a request the source must answer; one after it is woken by QEMU's cleanup
                CompletableFuture<List<String>> reads = CompletableFuture.supplyAsync(() -> {
                    List<String> wrong = new ArrayList<>();
                    for (int i = 0; readsAfterEnd.get() < 16 && i < zeroPages.size(); i++) {
                        String seen = readByte(destination, zeroPages.get(i) * Protocol.PAGE_SIZE);
                        if (!seen.endsWith(": 0x00")) {
                            wrong.add(Long.toHexString(zeroPages.get(i) * Protocol.PAGE_SIZE) + " read " + seen);
                        }
                        if (completed.get()) {
                            readsAfterEnd.incrementAndGet();
                        }
                    }
                    return wrong;
                });
                RestoreStats stats;
                try (PostcopySource source = serve(file, "dst" + round, true)) {
                    // requests alone until the monitor's reads are being asked for, then the rest and the end
                    Await.until("the monitor's first reads asked for", PostcopyQemuTest.MIGRATION_TIMEOUT,
                            () -> source.stats().faults() >= 4);
                    source.loadRemaining();
                    stats = source.completion().get(PostcopyQemuTest.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                }
                completed.set(true);
                // the monitor's reads first: one QMP client, one caller at a time
                assertEquals(List.of(), reads.get(PostcopyQemuTest.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
                        "zero pages that did not read as zeros");
                destination.awaitMigration(Set.of("completed"), PostcopyQemuTest.MIGRATION_TIMEOUT);
                assertEquals("running", destination.qmp().execute("query-status").path("status").asText());
                assertSentPresentPagesAndAskedForZeroPagesOnly(file, stats);
                assertTrue(stats.faults() > 0, "the guest and the monitor asked for pages before the end: " + stats);
                System.out.printf("running, round %d: %d requests, %d pages sent of %d (%d present), %d monitor reads after "
                        + "the end%n", round, stats.faults(), stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground(),
                        file.pages(), file.presentPages(), readsAfterEnd.get());
            }
        }
    }

    /** Every present page went once; zero pages only for requests (and their prefetch), far fewer than all. */
    private static void assertSentPresentPagesAndAskedForZeroPagesOnly(MigrationFile file, RestoreStats stats) {
        assertEquals(RestoreStats.Phase.COMPLETE, stats.phase());
        assertEquals(file.presentPages(), stats.loadedPages(), "every present page is in: " + stats);
        long sent = stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground();
        assertTrue(sent >= file.presentPages() && sent <= file.presentPages() + stats.pagesFault() + stats.pagesPrefetch(),
                "zero pages went only when asked for: " + stats);
        assertTrue(sent < file.pages() / 2, "most pages are zero and were not sent: " + stats);
    }

    /** Zero pages of pc.ram from 1 MiB on (below is the firmware's window), spread out, from {@code seed}. */
    private static List<Long> zeroPagesAboveOneMiB(MigrationFile file, int seed) {
        List<Long> pages = new ArrayList<>();
        SourceBlock ram = file.block("pc.ram").orElseThrow();
        for (long p = (1 << 20) / Protocol.PAGE_SIZE + seed; p < ram.pages(); p += 7) {
            if (!file.present(ram.firstPage() + p)) {
                pages.add(p);
            }
        }
        return pages;
    }

    private static String readByte(Qemu destination, long address) {
        try {
            return destination.qmp().execute("human-monitor-command", Map.of("command-line",
                    String.format("xp /1xb 0x%x", address))).asText().strip();
        } catch (QmpException e) {
            return "(monitor: " + e.getMessage() + ")";
        }
    }

    private PostcopySource serve(MigrationFile file, String name, boolean demandFirst) throws Exception {
        Path socket = dir.resolve(name + ".sock");
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        return PostcopySource.start(file, channel, "unix:" + socket,
                new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class)),
                demandFirst ? Map.of("background", false) : Map.of(), ServeProfile.none(file), true);
    }
}
