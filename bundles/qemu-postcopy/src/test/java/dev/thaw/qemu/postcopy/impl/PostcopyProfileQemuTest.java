package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.migration.ServeRequest;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import dev.thaw.machine.impl.InstalledFormats;
import dev.thaw.policy.hotpagefirst.impl.HotPageFirstPolicy;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.qemu.postcopy.impl.RecordingDestination.PageRecord;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.PageRequest;
import dev.thaw.support.profile.Profiles;
import dev.thaw.testing.Await;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.RequiresQemu;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Working-set profiles on the postcopy path: a serve to a running QEMU 10 guest records the pages QEMU asked for,
 * in the order it first asked (read off the wire between them, not from the source), and a second serve of the
 * file with {@code hot-page-first} reading that profile sends those pages before any other background page.
 */
@RequiresQemu
class PostcopyProfileQemuTest {

    /** How long the guest runs on demand-loaded memory, its every first touch a request, before the rest is sent. */
    static final long DEMAND_MILLIS = 1_000;

    @TempDir
    static Path shared;
    static Path saved;

    @TempDir
    Path dir;

    @BeforeAll
    static void saveAGuest() throws Exception {
        saved = PostcopyQemuTest.saveAGuest(shared);
    }

    @Test
    void aRecordedProfileIsTheRequestedPagesInRequestOrderAndHotPageFirstSendsThemFirst() throws Exception {
        Path profile = dir.resolve("saved.mr.profile.json");
        QemuPostcopyServer server = new QemuPostcopyServer(InstalledFormats.of(new QemuMappedRamFormat(), new ThawSnapshotFormat()));
        server.addPolicy(new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class)));
        List<PageRequest> asked;
        try (Qemu destination = Qemu.start(dir, "dst", "-global", "migration.x-postcopy-ram=on",
                "-incoming", "unix:" + dir.resolve("dst.sock"));
                ReturnPathTap tap = new ReturnPathTap(dir.resolve("tap.sock"), dir.resolve("dst.sock"))) {
            // demand loading, page by page, while the guest runs: each page it touches first is asked for, then the rest goes
            ServeRequest request = new ServeRequest(saved, 0, "unix:" + tap.socket(), "sequential",
                    Map.of("background", false, "faultChunkKiB", 4)).withRecordProfileTo(profile);
            try (PostcopyServe serve = server.serve(request)) {
                Await.until("the running guest's page requests", PostcopyQemuTest.MIGRATION_TIMEOUT,
                        () -> serve.stats().resumeLatency() >= 0 && serve.stats().pagesFault() > 0);
                Thread.sleep(DEMAND_MILLIS); // more of them: the guest runs on
                serve.loadRemaining();
                RestoreStats stats = serve.completion().get(PostcopyQemuTest.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                assertEquals(Optional.of(profile), serve.savedProfile(), "written when the destination completed");
                assertEquals(List.of(), serve.warnings());
                System.out.printf("recorded %d requests of a running guest (%d pages requested, %d prefetched)%n",
                        stats.faults(), stats.pagesFault(), stats.pagesPrefetch());
            }
            destination.awaitMigration(Set.of("completed"), PostcopyQemuTest.MIGRATION_TIMEOUT);
            asked = tap.requests();
        }
        List<Long> recorded;
        List<Long> present;
        try (SnapshotReader reader = new QemuMappedRamFormat().open(saved)) {
            MigrationFile file = MigrationFile.of(reader);
            LinkedHashSet<Long> firstAsked = new LinkedHashSet<>();
            for (PageRequest r : asked) {
                long first = file.block(r.block()).orElseThrow().firstPage() + r.offset() / Protocol.PAGE_SIZE;
                for (long p = first; p < first + r.length() / Protocol.PAGE_SIZE; p++) {
                    firstAsked.add(p);
                }
            }
            List<String> warnings = new ArrayList<>();
            WorkingSet ws = Profiles.read(profile, Profiles.snapshotId(saved), Protocol.PAGE_SIZE, file.pages(), warnings)
                    .orElseThrow(() -> new AssertionError(warnings));
            recorded = pages(ws);
            assertTrue(recorded.size() > 8, "the running guest asked for more than the device state's 3 pages: " + recorded);
            assertEquals(List.copyOf(firstAsked), recorded, "the requested pages, each at its first request, in order");
            present = recorded.stream().filter(file::present).toList();
            assertTrue(!present.isEmpty(), "the guest touched pages the file holds");
        }

        // the second serve, wire decoded, no requests: hot-page-first's background order starts with the profile
        List<PageRecord> records;
        try (SnapshotReader reader = new QemuMappedRamFormat().open(saved);
                RecordingDestination destination = new RecordingDestination(dir, new RecordingDestination.Script() {})) {
            MigrationFile file = MigrationFile.of(reader);
            ServeProfile reading = new ServeProfile(saved, file.pages(), profile, null);
            try (PostcopySource source = PostcopySource.start(file, SocketChannel.open(UnixDomainSocketAddress.of(
                    destination.socket())), "test", hotPageFirst(), Map.of(), reading, false)) {
                source.completion().get(PostcopyQemuTest.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                assertEquals(List.of(), source.warnings());
            }
            destination.done().get(PostcopyQemuTest.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            List<Long> sent = new ArrayList<>();
            for (PageRecord r : destination.records()) {
                sent.add(file.block(r.block()).orElseThrow().firstPage() + r.page());
            }
            assertEquals(file.pages(), sent.size());
            // pages the file lacks count as loaded, so hot-page-first leaves them to the end (ZERO records)
            Set<Long> firstSent = new HashSet<>(sent.subList(0, present.size()));
            assertEquals(new HashSet<>(present), firstSent, "the profile's pages first, before any other");
            List<Long> addressOrder = new ArrayList<>();
            for (long p = 0; addressOrder.size() < present.size(); p++) {
                if (file.present(p)) {
                    addressOrder.add(p);
                }
            }
            assertNotEquals(new HashSet<>(addressOrder), firstSent, "the profile is not what address order sends first");
        }
    }

    private static List<Long> pages(WorkingSet ws) {
        List<Long> pages = new ArrayList<>();
        for (PageRange r : ws.runs()) {
            for (long p = r.first(); p < r.end(); p++) {
                pages.add(p);
            }
        }
        return pages;
    }

    private static HotPageFirstPolicy hotPageFirst() {
        return new HotPageFirstPolicy(ConfigProxy.defaults(HotPageFirstPolicy.Config.class));
    }
}
