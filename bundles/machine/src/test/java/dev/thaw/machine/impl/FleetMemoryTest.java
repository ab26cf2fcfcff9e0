package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.FleetInfo;
import dev.thaw.api.vm.GuestMemoryUse;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.Vm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A shared fleet's host memory as Thaw reports it, against what the process gained. Runs in a JVM of its own
 * whose heap is fixed and touched at start (the machine bundle's pom), so the process's growth is the fleet's.
 */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(300)
class FleetMemoryTest {

    /** Large enough that the guests' memory, not the JVM's own growth, is what the process gains. */
    static final long MEMORY = 320L << 20;
    static final long RESIDENT = 256L << 20;

    @TempDir
    Path dir;
    @Parameter
    String runtime;
    TestPlatform platform;

    @BeforeEach
    void start() {
        platform = new TestPlatform(runtime);
    }

    @AfterEach
    void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void aSharedFleetHoldsTheSnapshotOnceAndReportsWhatTheProcessGained() throws IOException {
        FleetTest.Saved saved = FleetTest.saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, 10);
        // A fleet run once first: what the JVM compiles and allocates for itself on the way is not the fleet's.
        // As many VMs as measured: the engine's pooled threads and their staging buffers are there by then.
        for (Vm vm : platform.manager().restoreFleet(RestoreOptions.lazy(saved.file(), "warm", "sequential"), 4, true,
                Progress.NONE)) {
            vm.invoke(FleetTest.WAIT);
            vm.awaitLoaded(FleetTest.WAIT, Progress.NONE);
            vm.stop();
        }
        long before = processPss();

        List<Vm> fleet = platform.manager().restoreFleet(RestoreOptions.lazy(saved.file(), "m", "sequential"), 4, true,
                Progress.NONE);
        for (Vm vm : fleet) {
            vm.invoke(FleetTest.WAIT);
            vm.awaitLoaded(FleetTest.WAIT, Progress.NONE);
        }
        FleetInfo info = platform.manager().fleets().getFirst();
        long gained = processPss() - before;
        System.out.printf("shared fleet of %d: host memory %d B reported, process PSS gained %d B (%.1f%% apart)%n", fleet.size(),
                info.hostBytes(), gained, 100.0 * Math.abs(info.hostBytes() - gained) / gained);

        assertTrue(info.shared());
        assertEquals(fleet.stream().map(Vm::id).toList(), info.members());
        assertTrue(Math.abs(info.hostBytes() - gained) <= 0.05 * gained, "the fleet's host memory " + info.hostBytes()
                + " B agrees within 5% with the " + gained + " B the process's PSS grew by");
        long owned = 0;
        for (Vm vm : fleet) {
            GuestMemoryUse use = vm.memoryUse().orElseThrow();
            assertTrue(use.sharedBytes() > 0, vm.id() + " maps pages of the cache: " + use);
            assertTrue(use.ownedBytes() > 0 && use.ownedBytes() < FleetTest.WORKING_SET, vm.id() + " owns about a tenth of its working set, "
                    + "the pages it wrote: " + use);
            owned += use.ownedBytes();
        }
        assertEquals(info.cacheBytes() + owned, info.hostBytes());
        assertTrue(info.cacheBytes() <= info.snapshotBytes() + (1 << 20), "the cache holds at most the snapshot's pages once: "
                + info);
        assertTrue(info.hostBytes() < 2 * info.snapshotBytes(), "4 VMs hold well under 2 copies of the snapshot: " + info);
    }

    /** The process's proportional set size, from /proc/self/smaps_rollup. */
    private static long processPss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
            if (line.startsWith("Pss:")) {
                return Long.parseLong(line.substring(4).replace("kB", "").strip()) * 1024;
            }
        }
        throw new AssertionError("no Pss line in /proc/self/smaps_rollup");
    }

}
