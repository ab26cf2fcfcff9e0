package dev.thaw.machine.impl;

import dev.thaw.support.guest.ConsoleLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import dev.thaw.testing.Runtimes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Snapshots are proven by continuation: a guest snapshotted at a random moment and restored must print
 * exactly what a guest that never stopped prints, byte for byte, including everything before the snapshot.
 * Moments are seeded, so a failure names a moment that can be replayed.
 */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(300)
class ContinuationTest {

    /** Snapshot moments per case: many on KVM; on the emulated runtime, whose guests run far slower, fewer. */
    static final int MOMENTS_KVM = 20;
    static final int MOMENTS_EMULATED = 8;
    static final Duration WAIT = Duration.ofSeconds(60);
    /** Invocations the function workload answers in each run. */
    static final int INVOCATIONS = 4;

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
        if (platform != null) { // null where the runtime cannot run here: the test was skipped
            platform.close();
        }
    }

    /**
     * The workloads' sizes: on KVM as a user would run them; on the emulated runtime a quarter of that, so
     * that each of its many runs takes a second or so (the known answers at full size are GuestVmManagerTest's).
     */
    BootRequest request(Workload workload, int vcpus) {
        int shift = runtime.equals(Runtimes.EMULATED) ? 2 : 0;
        return switch (workload) {
            case FILL -> new BootRequest(null, 64L << 20 >> shift, vcpus, workload, 11, 4096, TouchOrder.SEQUENTIAL, 4096);
            case TOUCH -> new BootRequest(null, 128L << 20 >> shift, vcpus, workload, 12, 64L << 20 >> shift, TouchOrder.RANDOM, 4096);
            case FUNCTION -> new BootRequest(null, 96L << 20 >> shift, vcpus, workload, 13, 48L << 20 >> shift, TouchOrder.SEQUENTIAL, 4096);
        };
    }

    int moments() {
        return runtime.equals(Runtimes.EMULATED) ? MOMENTS_EMULATED : MOMENTS_KVM;
    }

    /** Eager, and lazy with every policy the platform ships ({@code none} is pure demand loading). */
    static final String MODES = "eager, none, sequential, hot-page-first, prefetch-window";

    static Stream<Arguments> everyModeWorkloadAndVcpuCount() {
        return Stream.of(MODES.split(", ")).flatMap(mode -> Stream.of(Workload.values())
                .flatMap(w -> Stream.of(1, 2).map(v -> Arguments.of(mode, w, v))));
    }

    /** A restore in {@code mode}: eager, or lazy with that policy. */
    private Vm restore(String mode, Path file) {
        RestoreOptions options = mode.equals("eager") ? RestoreOptions.eager(file, null) : RestoreOptions.lazy(file, null, mode);
        return platform.manager().restore(options, Progress.NONE);
    }

    @ParameterizedTest(name = "{0}: {1} with {2} vCPU(s)")
    @MethodSource("everyModeWorkloadAndVcpuCount")
    void aSnapshotAtAnyMomentContinuesExactly(String mode, Workload workload, int vcpus) {
        BootRequest request = request(workload, vcpus);
        String expected = referenceRun(request);
        // Timed on a second run, past the first VM's warm-up; it must print the same, or nothing is proven.
        long startNanos = System.nanoTime();
        assertEquals(expected, referenceRun(request), "two runs that never stopped differ: the guest is not deterministic");
        long referenceNanos = System.nanoTime() - startNanos;
        Random random = new Random(workload.ordinal() * 100L + vcpus);
        int taken = 0;
        // Moments fall in [0, range); a moment past the end of a run (a loaded machine runs slower or
        // faster than the timed reference) shrinks the range.
        double range = referenceNanos * 0.8;
        int moments = moments();
        for (int attempt = 0; taken < moments && attempt < moments * 4; attempt++) {
            long moment = (long) (random.nextDouble() * range);
            Vm vm = platform.manager().boot(request);
            startWork(vm);
            LockSupport.parkNanos(moment);
            Path file = dir.resolve(workload + "-" + vcpus + "-" + attempt + ".snap");
            try {
                vm.snapshot(file, false, Progress.NONE);
            } catch (VmException e) {
                vm.stop(); // the guest finished before this moment: not a moment inside the run
                range *= 0.75;
                continue;
            }
            taken++;
            Vm restored = restore(mode, file);
            assertEquals(expected, runToEnd(restored), mode + ": " + workload + " with " + vcpus
                    + " vCPU(s), snapshot " + moment / 1000 + " µs after boot (attempt " + attempt + ")");
        }
        assertTrue(taken >= moments, "only " + taken + " snapshots fell inside the run");
    }

    static Stream<Arguments> everyModeAndWorkload() {
        return Stream.of(MODES.split(", ")).flatMap(mode -> Stream.of(Workload.values()).map(w -> Arguments.of(mode, w)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("everyModeAndWorkload")
    void aChainOfThreeSnapshotsStillContinuesExactly(String mode, Workload workload) {
        BootRequest request = request(workload, 2);
        referenceRun(request);
        long startNanos = System.nanoTime();
        String expected = referenceRun(request);
        // Three steps stay well inside a run on a noisy machine; but a restored guest may run faster than the
        // reference did (its pages are there already), so a chain the guest outran is made again with shorter steps.
        long step = (System.nanoTime() - startNanos) / 10;
        for (int attempt = 1; ; attempt++) {
            Vm vm = chain(request, mode, step, expected);
            if (vm != null) {
                assertEquals(expected, runToEnd(vm), mode + ": " + workload + " after a chain of 3 snapshots");
                return;
            }
            assertTrue(attempt < 4, "the guest finished before its third snapshot even at steps of " + step / 1_000_000 + " ms");
            step /= 4;
        }
    }

    /**
     * Boots, then three times waits {@code step}, snapshots and restores; returns the VM of the third restore,
     * or null when the guest finished before a snapshot (its output, checked, is then the whole run's).
     */
    private Vm chain(BootRequest request, String mode, long step, String expected) {
        Vm vm = platform.manager().boot(request);
        startWork(vm);
        for (int depth = 1; depth <= 3; depth++) {
            LockSupport.parkNanos(step);
            Path file = dir.resolve("chain-" + depth + ".snap");
            try {
                vm.snapshot(file, false, Progress.NONE);
            } catch (VmException e) {
                if (vm.info().status() != VmStatus.EXITED) {
                    throw e;
                }
                assertEquals(expected, vm.consoleText(), mode + ": finished after " + (depth - 1) + " snapshots");
                vm.stop();
                return null;
            }
            vm = restore(mode, file);
        }
        return vm;
    }

    /**
     * The function workload gets all its invocations at once, so a snapshot can fall inside any of them;
     * they are sent when its init is done, because the guest drains its UART while initializing.
     */
    private static void startWork(Vm vm) {
        if (isFunction(vm)) {
            vm.awaitLine("result ", 0, WAIT);
            vm.sendInput(ConsoleLog.INVOKE_REQUEST.repeat(INVOCATIONS));
        }
    }

    /**
     * Lets the VM finish its work and returns its whole console output. A restored function VM has the
     * invocations it had not yet read in its UART state, so nothing is sent again.
     */
    private static String runToEnd(Vm vm) {
        if (isFunction(vm)) {
            awaitResults(vm, INVOCATIONS + 1);
        } else {
            awaitEnd(vm);
        }
        String text = vm.consoleText();
        vm.stop();
        return text;
    }

    /** Boots and starts the work of a run that never stops. */
    private String referenceRun(BootRequest request) {
        Vm vm = platform.manager().boot(request);
        startWork(vm);
        return runToEnd(vm);
    }

    private static boolean isFunction(Vm vm) {
        return vm.info().workload() == Workload.FUNCTION;
    }

    /** Complete result lines so far (a line still being printed does not count). */
    private static int countResults(Vm vm) {
        String text = vm.consoleText();
        return (int) text.substring(0, text.lastIndexOf('\n') + 1).lines().filter(l -> l.startsWith("result ")).count();
    }

    private static void awaitResults(Vm vm, int count) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (countResults(vm) < count) {
            assertTrue(System.nanoTime() < deadline, vm.id() + ": only " + countResults(vm) + " of " + count + " results:\n" + vm.consoleText());
            LockSupport.parkNanos(1_000_000);
        }
    }

    private static void awaitEnd(Vm vm) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (vm.info().status() == VmStatus.RUNNING) {
            assertTrue(System.nanoTime() < deadline, vm.id() + " did not finish:\n" + vm.consoleText());
            LockSupport.parkNanos(1_000_000);
        }
        assertEquals(VmStatus.EXITED, vm.info().status(), vm.id() + ": " + vm.info().reason());
        assertEquals(0, vm.info().exitCode());
    }
}
