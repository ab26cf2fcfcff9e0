package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.FleetInfo;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.Workload;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** Fleets: VMs restored together from one snapshot, sharing its pages or not. */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(300)
class FleetTest {

    static final Duration WAIT = Duration.ofSeconds(120);
    static final long MEMORY = 64L << 20;
    static final long WORKING_SET = 8L << 20;
    static final long RESIDENT = 32L << 20;
    /** Invocations each member answers after the restore. */
    static final int INVOCATIONS = 3;

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

    /** A guest that wrote some of its memory, saved after one invocation; and what it answers had it run on. */
    record Saved(Path file, List<String> answers) {}

    static Saved saveAfterOneInvocation(TestPlatform platform, Path dir, long memory, long resident, int writePercent) {
        Vm original = platform.manager().boot(new BootRequest("orig", memory, 1, Workload.FUNCTION, 17, WORKING_SET,
                TouchOrder.SEQUENTIAL, 4096, resident, writePercent));
        original.invoke(WAIT);
        Path file = dir.resolve("fleet.snap");
        original.snapshot(file, true, Progress.NONE);
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < INVOCATIONS; i++) {
            answers.add(original.invoke(WAIT).resultLine());
        }
        original.stop();
        return new Saved(file, answers);
    }

    @Test
    void eachVmOfASharedFleetContinuesExactlyAndNoneSeesAnothersWrites() throws IOException {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        byte[] fileBefore = sha256(saved.file());
        List<Vm> fleet = platform.manager().restoreFleet(RestoreOptions.lazy(saved.file(), "f", "sequential"), 4, true,
                Progress.NONE);
        assertEquals(List.of("f-1", "f-2", "f-3", "f-4"), fleet.stream().map(Vm::id).toList());
        // One member at a time, all its invocations: a write that reached the cache would change what the next reads.
        for (Vm vm : fleet) {
            assertEquals(saved.answers(), answers(vm), vm.id() + " continues as the guest that never stopped");
        }
        Vm later = platform.manager().restore(RestoreOptions.lazy(saved.file(), "later", "sequential"), Progress.NONE);
        assertEquals(saved.answers(), answers(later), "a restore after the fleet's writes finds the snapshot's memory");
        assertArrayEquals(fileBefore, sha256(saved.file()), "the snapshot file is unchanged");
    }

    @Test
    void aFleetThatSharesNothingContinuesExactlyToo() {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        List<Vm> fleet = platform.manager().restoreFleet(RestoreOptions.eager(saved.file(), null), 2, false, Progress.NONE);
        assertEquals(List.of("fleet1-1", "fleet1-2"), fleet.stream().map(Vm::id).toList());
        for (Vm vm : fleet) {
            assertEquals(saved.answers(), answers(vm), vm.id());
        }
        FleetInfo info = platform.manager().fleets().getFirst();
        assertFalse(info.shared());
        assertEquals(0, info.cacheBytes());
    }

    @Test
    void aFleetLetsGoOfItsCacheWhenItsLastVmStops() throws IOException {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        long memfds = memfds();
        List<Vm> fleet = platform.manager().restoreFleet(RestoreOptions.lazy(saved.file(), "g", "sequential"), 2, true,
                Progress.NONE);
        assertTrue(memfds() > memfds, "the shared cache is a memfd");
        fleet.get(0).stop();
        assertEquals(1, platform.manager().fleets().size(), "a fleet with a VM left stays");
        assertEquals(List.of("g-2"), platform.manager().fleets().getFirst().members());
        assertEquals(saved.answers().getFirst(), fleet.get(1).invoke(WAIT).resultLine(), "the other VM runs on");
        fleet.get(1).stop();
        assertEquals(List.of(), platform.manager().fleets());
        assertEquals(memfds, memfds(), "no memfd is left");
    }

    @Test
    void fleetsThatCannotBeAreRefusedWithOneLineAndLeaveNothing() {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        var vms = platform.manager();
        assertEquals("a fleet has 1 to 256 VMs, not 0", assertThrows(IllegalArgumentException.class,
                () -> vms.restoreFleet(RestoreOptions.lazy(saved.file(), "x", null), 0, true, Progress.NONE)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> vms.restoreFleet(RestoreOptions.eager(saved.file(), "x"), 2, true, Progress.NONE)).getMessage()
                .startsWith("an eager restore loads each VM's memory before it runs"));
        vms.restore(RestoreOptions.lazy(saved.file(), "y-2", null), Progress.NONE);
        assertEquals("a VM named 'y-2' exists already", assertThrows(IllegalArgumentException.class,
                () -> vms.restoreFleet(RestoreOptions.lazy(saved.file(), "y", null), 3, true, Progress.NONE)).getMessage());
        assertEquals(List.of("y-2"), vms.list().stream().map(Vm::id).toList(), "no member of a refused fleet is left");
        assertEquals(List.of(), vms.fleets());
    }

    @Test
    void aFleetWithoutANameIsNamedPastAVmNamedLikeAMember() {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        var vms = platform.manager();
        vms.restore(RestoreOptions.lazy(saved.file(), "fleet1-1", "sequential"), Progress.NONE);
        List<Vm> fleet = vms.restoreFleet(RestoreOptions.lazy(saved.file(), null, "sequential"), 2, true, Progress.NONE);
        assertEquals(List.of("fleet2-1", "fleet2-2"), fleet.stream().map(Vm::id).toList());
        assertEquals(saved.answers().getFirst(), fleet.getLast().invoke(WAIT).resultLine(), "the fleet runs");
        assertEquals("a VM named 'fleet1-1' exists already", assertThrows(IllegalArgumentException.class,
                () -> vms.restoreFleet(RestoreOptions.lazy(saved.file(), "fleet1", null), 2, true, Progress.NONE)).getMessage(),
                "a name the user gives is not changed");
    }

    @Test
    void aFleetThatSharesNothingIsRefusedARecordingWithOneLineAndLeavesNothing() {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        var vms = platform.manager();
        RestoreOptions recording = new RestoreOptions(saved.file(), "r", false, "sequential", 0, true);
        assertEquals("the VMs of a fleet would each record the snapshot's working-set profile over the others'; record one "
                + "with a single restore", assertThrows(IllegalArgumentException.class,
                        () -> vms.restoreFleet(recording, 2, false, Progress.NONE)).getMessage());
        assertEquals(List.of(), vms.list());
        assertEquals(List.of(), vms.fleets());
        assertFalse(Files.exists(vms.profileFile(saved.file())), "no profile is written");
    }

    @Test
    void aSharedFleetRefusesOptionsItCannotHonourBeforeItOpensAnything() throws IOException {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        var vms = platform.manager();
        CountedOpens thaw = new CountedOpens();
        platform.addFormat(thaw);
        long memfds = memfds();
        IllegalArgumentException preload = assertThrows(IllegalArgumentException.class, () -> vms.restoreFleet(
                RestoreOptions.lazy(saved.file(), "p", "sequential").preloadingWorkingSet(), 2, true, Progress.NONE));
        IllegalArgumentException runtime = assertThrows(IllegalArgumentException.class, () -> vms.restoreFleet(
                RestoreOptions.lazy(saved.file(), "p", "sequential").onRuntime("nosuch"), 2, true, Progress.NONE));
        assertEquals(0, thaw.opens.get(), "the snapshot is not opened");
        assertEquals(memfds, memfds(), "no page cache is left");
        assertEquals("a shared fleet maps a Thaw snapshot's pages into VMs whose vCPUs start at once; preloading the working "
                + "set before the guest runs is for QEMU files on the qemu runtime", preload.getMessage());
        assertTrue(runtime.getMessage().startsWith("no vCPU runtime named 'nosuch' is installed"), runtime.getMessage());
        assertEquals(List.of(), vms.list());
        assertEquals(List.of(), vms.fleets());
    }

    @Test
    void aFleetThatSharesNothingOpensTheSnapshotOncePerVm() {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        CountedOpens thaw = new CountedOpens();
        platform.addFormat(thaw);
        platform.manager().restoreFleet(RestoreOptions.lazy(saved.file(), "n", "sequential"), 3, false, Progress.NONE);
        assertEquals(3, thaw.opens.get(), "one reader for each VM, and none besides");
        long stored;
        try (SnapshotReader reader = new ThawSnapshotFormat().open(saved.file())) {
            stored = reader.regions().stream().mapToLong(r -> r.presentPages() * r.pageSize()).sum();
        }
        assertEquals(stored, platform.manager().fleets().getFirst().snapshotBytes(), "the snapshot's pages are still counted");
    }

    /** Thaw's own format, counting the readers it opens; its name sorts first, so it opens every Thaw snapshot. */
    static final class CountedOpens implements SnapshotFormat {

        final ThawSnapshotFormat thaw = new ThawSnapshotFormat();
        final AtomicInteger opens = new AtomicInteger();

        @Override
        public String name() {
            return "counted-thaw";
        }

        @Override
        public String description() {
            return thaw.description();
        }

        @Override
        public boolean probe(byte[] head) {
            return thaw.probe(head);
        }

        @Override
        public SnapshotReader open(Path file) {
            opens.incrementAndGet();
            return thaw.open(file);
        }
    }

    @Test
    void ofTwoFleetsOfOneNameRequestedAtOnceOneIsRefusedWithOneLine() throws Exception {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        var vms = platform.manager();
        List<Outcome> outcomes = atOnce(
                () -> vms.restoreFleet(RestoreOptions.lazy(saved.file(), "x", "sequential"), 2, false, Progress.NONE),
                () -> vms.restoreFleet(RestoreOptions.lazy(saved.file(), "x", "sequential"), 2, false, Progress.NONE));
        List<Vm> won = onlySuccess(outcomes, "a fleet named 'x' exists already");
        assertEquals(List.of("x-1", "x-2"), won.stream().map(Vm::id).toList());
        assertEquals(won, vms.list(), "the VMs listed are the fleet's that was restored");
        assertEquals(List.of("x"), vms.fleets().stream().map(FleetInfo::name).toList());
        assertEquals(List.of("x-1", "x-2"), vms.fleets().getFirst().members());
    }

    @Test
    void ofASharedFleetAndAVmNamedAsItsMemberRequestedAtOnceOneIsRefusedWithOneLine() throws Exception {
        Saved saved = saveAfterOneInvocation(platform, dir, MEMORY, RESIDENT, BootRequest.WRITE_ALL);
        var vms = platform.manager();
        List<Outcome> outcomes = atOnce(
                () -> vms.restoreFleet(RestoreOptions.lazy(saved.file(), "y", "sequential"), 2, true, Progress.NONE),
                () -> List.of(vms.restore(RestoreOptions.lazy(saved.file(), "y-1", "sequential"), Progress.NONE)));
        List<Vm> won = onlySuccess(outcomes, "a VM named 'y-1' exists already");
        assertEquals(won, vms.list(), "only the VMs of the request that passed are left");
        assertEquals(won.size() == 2 ? List.of("y") : List.of(), vms.fleets().stream().map(FleetInfo::name).toList());
        assertEquals(saved.answers().getFirst(), won.getFirst().invoke(WAIT).resultLine(), "the one restored runs on");
    }

    /** What one of two concurrent requests returned, or threw. */
    record Outcome(List<Vm> vms, Throwable failure) {}

    /** Runs both requests on threads of their own, let go at the same moment; waits for both. */
    @SafeVarargs
    static List<Outcome> atOnce(Callable<List<Vm>>... requests) throws InterruptedException {
        CountDownLatch ready = new CountDownLatch(requests.length);
        List<Thread> threads = new ArrayList<>();
        Outcome[] outcomes = new Outcome[requests.length];
        for (int i = 0; i < requests.length; i++) {
            int at = i;
            threads.add(Thread.ofPlatform().name("request-" + i).start(() -> {
                ready.countDown();
                try {
                    ready.await();
                    outcomes[at] = new Outcome(requests[at].call(), null);
                } catch (Throwable t) {
                    outcomes[at] = new Outcome(null, t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return List.of(outcomes);
    }

    /** The VMs of the one request that succeeded, having checked that the other was refused with {@code refusal}. */
    static List<Vm> onlySuccess(List<Outcome> outcomes, String refusal) {
        List<Outcome> failed = outcomes.stream().filter(o -> o.failure() != null).toList();
        assertEquals(1, failed.size(), "exactly one of the requests is refused: " + outcomes);
        assertEquals(IllegalArgumentException.class, failed.getFirst().failure().getClass(), failed.getFirst().failure().toString());
        assertEquals(refusal, failed.getFirst().failure().getMessage());
        return outcomes.stream().filter(o -> o.failure() == null).findFirst().orElseThrow().vms();
    }

    static List<String> answers(Vm vm) {
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < INVOCATIONS; i++) {
            answers.add(vm.invoke(WAIT).resultLine());
        }
        return answers;
    }

    private static byte[] sha256(Path file) throws IOException {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static long memfds() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("/memfd:");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }
}
