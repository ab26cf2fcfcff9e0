package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.Workload;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.testing.RequiresQemu;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * After a lazy restore through the postcopy source completes, the guest's memory in QEMU is the file's, page for
 * page, and every page went once. Proven by saving the restored guest again with QEMU and comparing the two files'
 * RAM blocks. The guest is the function guest after its invocation, idle; but idle it still counts timer ticks, so
 * it writes a few pages between two saves. Those pages are measured on a guest that was never restored (two saves
 * of one VM, the same time apart) and are the only ones allowed to differ.
 */
@RequiresQemu
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class QemuLazyRestoreMemoryTest {

    static final Duration WAIT = Duration.ofSeconds(60);
    static final BootRequest REQUEST = new BootRequest("idle", 64L << 20, 1, Workload.FUNCTION, 21, 8L << 20,
            TouchOrder.SEQUENTIAL, 4096);
    /** Pages an idle guest may write between two saves: its tick counters and interrupt stack, a handful. */
    static final int MAX_IDLE_WRITTEN = 8;
    /** How long the guest idles between the two saves: many of its timer ticks. */
    static final Duration IDLE = Duration.ofMillis(500);

    Path dir;
    QemuPlatform platform;
    Path saved;
    /** Pages (block and index) the idle guest wrote between two saves of it. */
    Set<String> idleWritten;

    @BeforeAll
    void saveTheIdleGuestTwice(@TempDir Path folder) {
        dir = folder;
        platform = new QemuPlatform();
        saved = dir.resolve("idle.mr");
        Path later = dir.resolve("idle-later.mr");
        Vm vm = platform.vms().boot(REQUEST, "qemu");
        vm.invoke(WAIT);
        vm.snapshot(saved, true, Progress.NONE);
        LockSupport.parkNanos(IDLE.toNanos()); // idle long enough to show every page the idle guest writes
        idleWritten = differingPages(saved, later(vm, later));
        assertTrue(idleWritten.size() <= MAX_IDLE_WRITTEN, "the idle guest wrote " + idleWritten.size() + " pages between two saves: "
                + idleWritten);
    }

    private static Path later(Vm vm, Path file) {
        vm.snapshot(file, false, Progress.NONE);
        return file;
    }

    @AfterAll
    void nothingLeftRunning() {
        QemuLeftovers.assertNoneAfterClosing(platform);
    }

    /** {@code none} is left out: it sends only what the guest asks for, so it completes only once the guest touched every page. */
    @ParameterizedTest
    @ValueSource(strings = {"sequential", "hot-page-first", "prefetch-window"})
    void afterALazyRestoreCompletesTheGuestsMemoryIsTheFilesAndEveryPageWentOnce(String policy) {
        assertLoadedAsTheFile(platform.vms().restore(RestoreOptions.lazy(saved, "restored-" + policy, policy), Progress.NONE), policy, 0);
    }

    /** The same with the working set, recorded on a first restore, loaded before the guest runs. */
    @Test
    void afterARestoreWithItsWorkingSetPreloadedCompletesTheGuestsMemoryIsTheFiles() throws IOException {
        Vm recording = platform.vms().restore(new RestoreOptions(saved, "recording", false, "sequential", 0, true), Progress.NONE);
        recording.invoke(WAIT);
        recording.stop();
        Vm vm = platform.vms().restore(RestoreOptions.lazy(saved, "preloaded", "sequential").preloadingWorkingSet(), Progress.NONE);
        RestoreStats atResume = vm.restoreStats().orElseThrow();
        assertTrue(atResume.pagesBackground() > 1000, "the working set went first: " + atResume);
        assertLoadedAsTheFile(vm, "preloaded", zeroPagesIn(platform.vms().profileFile(saved)));
    }

    /** The pages of the profile the file does not hold: a preload sends them too, as zero pages. */
    private long zeroPagesIn(Path profile) throws IOException {
        JsonNode runs = new ObjectMapper().readTree(profile.toFile()).path("runs"); // docs/working-set-profile.md
        assertTrue(runs.size() > 0, profile + " has runs");
        try (SnapshotReader reader = new QemuMappedRamFormat().open(saved)) {
            long zero = 0;
            for (JsonNode run : runs) {
                for (long page = run.get(0).asLong(); page < run.get(0).asLong() + run.get(1).asLong(); page++) {
                    zero += isPresent(reader, page) ? 0 : 1;
                }
            }
            return zero;
        }
    }

    /** Whether page {@code page}, numbered across all RAM blocks in the file's order, is in the file. */
    private static boolean isPresent(SnapshotReader reader, long page) {
        long first = 0;
        for (int r = 0; r < reader.regions().size(); r++) {
            long pages = reader.regions().get(r).pages();
            if (page < first + pages) {
                return reader.isPresent(r, page - first);
            }
            first += pages;
        }
        throw new AssertionError("page " + page + " is beyond the file's RAM");
    }

    /** Loaded completely, every present page once and zero pages only as asked for or {@code zeroPreloaded}. */
    private void assertLoadedAsTheFile(Vm vm, String policy, long zeroPreloaded) {
        RestoreStats stats = vm.awaitLoaded(WAIT, Progress.NONE).orElseThrow();
        assertEquals(RestoreStats.Phase.COMPLETE, stats.phase(), stats.toString());
        assertEquals(stats.presentPages(), stats.loadedPages(), stats.toString());
        // Every present page goes, and zero pages only where QEMU asked for them (zero pages on request, QEMU 10.0:
        // docs/qemu-postcopy.md 10.2): the causes add up to the present pages and the few zero pages asked for.
        long sent = stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground();
        assertTrue(sent >= stats.presentPages() && sent <= stats.presentPages() + stats.faults() + zeroPreloaded,
                zeroPreloaded + " zero pages preloaded: " + stats);
        assertEquals(0, stats.pagesWasted(), stats.toString());
        Path again = dir.resolve("again-" + policy + ".mr");
        vm.snapshot(again, false, Progress.NONE);
        Set<String> differing = differingPages(saved, again);
        differing.removeAll(idleWritten);
        assertEquals(Set.of(), differing, policy + ": pages that differ from the file beyond those the idle guest writes");
    }

    /** Pages ("block:index") whose contents differ between two QEMU files of the same machine. */
    static Set<String> differingPages(Path a, Path b) {
        QemuMappedRamFormat format = new QemuMappedRamFormat();
        Set<String> differing = new TreeSet<>();
        try (SnapshotReader x = format.open(a); SnapshotReader y = format.open(b); Arena arena = Arena.ofConfined()) {
            assertEquals(x.regions().stream().map(r -> r.name() + " " + r.size()).toList(),
                    y.regions().stream().map(r -> r.name() + " " + r.size()).toList(), "the same RAM blocks");
            int chunk = 256;
            for (int r = 0; r < x.regions().size(); r++) {
                SnapshotRegion region = x.regions().get(r);
                int size = region.pageSize();
                MemorySegment one = arena.allocate((long) chunk * size);
                MemorySegment two = arena.allocate((long) chunk * size);
                for (long first = 0; first < region.pages(); first += chunk) {
                    long count = Math.min(chunk, region.pages() - first);
                    x.readPages(r, first, count, one.asSlice(0, count * size));
                    y.readPages(r, first, count, two.asSlice(0, count * size));
                    for (long p = 0; p < count; p++) {
                        if (one.asSlice(p * size, size).mismatch(two.asSlice(p * size, size)) >= 0) {
                            differing.add(region.name() + ":" + (first + p));
                        }
                    }
                }
            }
        }
        return differing;
    }
}
