package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * vCPUs fault on guest memory that a lazy restore is still loading while garbage collections are forced
 * without pause, with every policy, and nothing hangs. A Java thread that took a userfaultfd fault in Java
 * code would hold every safepoint (and so this test) forever: it waits in the kernel in JVM state "in Java",
 * the collection waits for it, and the fault service that would wake it parks at that safepoint. The
 * emulated runtime's interpreters touch a page for the first time through a native call
 * ({@code madvise(MADV_POPULATE_*)}), so they wait "in native", which a safepoint does not wait for. KVM vCPUs
 * fault inside KVM_RUN, also native. The restored VM must still answer exactly as the one that never stopped.
 */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(180)
class LazyRestoreUnderGcTest {

    static final Duration WAIT = Duration.ofSeconds(60);

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

    @ParameterizedTest(name = "policy {0}")
    @ValueSource(strings = {"none", "sequential", "hot-page-first", "prefetch-window"})
    void faultsUnderForcedGarbageCollectionsAreServedAndTheGuestAnswersRight(String policy) throws InterruptedException {
        Vm original = platform.manager().boot(new BootRequest("gc-src", 64L << 20, 2, Workload.FUNCTION, 21, 8L << 20,
                TouchOrder.SEQUENTIAL, 4096));
        original.invoke(WAIT);
        Path file = dir.resolve("gc.snap");
        original.snapshot(file, true, Progress.NONE);

        AtomicBoolean collecting = new AtomicBoolean(true);
        AtomicLong collections = new AtomicLong();
        // A collection every few milliseconds: the safepoints fall between any two faults of a vCPU, while
        // the fault service (a Java thread too) still gets to serve them on this 2-core machine.
        Thread gc = Thread.ofPlatform().daemon().name("forced-gc").start(() -> {
            while (collecting.get()) {
                System.gc();
                collections.incrementAndGet();
                LockSupport.parkNanos(2_000_000);
            }
        });
        try {
            Vm copy = platform.manager().restore(RestoreOptions.lazy(file, "gc-copy", policy), Progress.NONE);
            for (int i = 0; i < 2; i++) {
                Invocation expected = original.invoke(WAIT);
                Invocation got = copy.invoke(WAIT);
                assertEquals(expected.resultLine(), got.resultLine(), policy + ": invocation " + expected.index());
            }
            RestoreStats stats = copy.restoreStats().orElseThrow();
            // With none every page the guest touches is a demand fault; with background loaders the guest may
            // find all its pages loaded first on a slow machine, so only none is sure to fault.
            if (policy.equals("none")) {
                assertTrue(stats.faults() > 0, policy + ": the guest took demand faults while collections ran (" + stats.faults() + ")");
            }
        } finally {
            collecting.set(false);
            gc.join(WAIT.toMillis());
        }
        assertTrue(collections.get() > 10, "garbage collections were forced throughout: " + collections.get());
    }
}
