package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import dev.thaw.testing.RequiresQemu;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The qemu runtime's failures while a VM runs or its memory is still being served: QEMU killed, the migration
 * connection dropped, a page that cannot be read. Each ends the VM FAILED with one line saying why, never a guest
 * running on with zeros, and leaves nothing running once the VM is stopped.
 */
@RequiresQemu
@Timeout(120)
class QemuFailureTest {

    static final Duration WAIT = Duration.ofSeconds(60);
    /** 64 MiB, an 8 MiB working set: quick to boot and save. */
    static final BootRequest REQUEST = new BootRequest("failing", 64L << 20, 1, Workload.FUNCTION, 5, 8L << 20,
            TouchOrder.SEQUENTIAL, 4096);

    @TempDir
    Path dir;

    final QemuPlatform platform = new QemuPlatform();

    @AfterEach
    void nothingLeftRunning() {
        QemuLeftovers.assertNoneAfterClosing(platform);
    }

    @Test
    void qemuKilledWhileTheGuestRunsFailsTheVmWithItsSignal() {
        Vm vm = platform.vms().boot(REQUEST, "qemu");
        vm.awaitLine("result ", 0, WAIT);
        kill((QemuVm) vm);
        awaitEnded(vm);
        assertFailedWithOneLine(vm, "signal 9");
        assertEquals(List.of(vm), platform.vms().list(), "a failed VM stays listed with its reason until stopped");
        vm.stop();
        assertEquals(List.of(), platform.vms().list());
    }

    /** With {@code none} the serve goes on as long as the guest runs: QEMU killed then is killed mid-restore. */
    @Test
    void qemuKilledWhileItsMemoryIsServedFailsTheVmAndEndsTheServe() {
        Served served = restoredWithNone("killed.mr");
        kill((QemuVm) served.vm());
        assertFailedAndStopped(served, "");
    }

    /** Thaw's end of the migration connection closed before every page was sent: QEMU has no memory behind its guest. */
    @Test
    void theMigrationConnectionDroppingFailsTheVm() {
        Served served = restoredWithNone("dropped.mr");
        served.serve().close();
        awaitEnded(served.vm());
        assertThrows(VmException.class, () -> served.vm().invoke(WAIT), "a guest whose memory source is gone does not run on");
        assertFailedAndStopped(served, served.file().toString());
    }

    /** The file cut short while pages are still served: the VM fails on the first page it cannot have. */
    @Test
    void aPageThatCannotBeReadFailsTheVmAndNeverRunsOnWithZeros() throws IOException {
        Served served = restoredWithNone("cut.mr");
        Vm vm = served.vm();
        long results = results(vm);
        try (RandomAccessFile cut = new RandomAccessFile(served.file().toFile(), "rw")) {
            cut.setLength(64 << 10); // the header and bitmaps stay; no page of any block can be read
        }
        // the invocation touches pages QEMU has not had: the serve must fail on them
        VmException e = assertThrows(VmException.class, () -> vm.invoke(WAIT));
        assertOneLine(e.getMessage());
        assertEquals(results, results(vm), "no result computed from pages that never came:\n" + vm.consoleText());
        assertFailedAndStopped(served, served.file().toString());
    }

    /** A VM restored lazily with {@code none} from {@code file}, and the serve of its memory. */
    private record Served(Path file, Vm vm, PostcopyServe serve) {}

    /** The VM failed with one line naming {@code naming}, its serve with one naming the file; stopped, it leaves the list. */
    private void assertFailedAndStopped(Served served, String naming) {
        Vm vm = served.vm();
        awaitEnded(vm);
        assertFailedWithOneLine(vm, naming);
        assertServeFailed(served.serve(), served.file());
        assertEquals(List.of(vm), platform.vms().list(), "a failed VM stays listed with its reason until stopped");
        vm.stop();
        assertEquals(List.of(), platform.vms().list());
    }

    private Served restoredWithNone(String name) {
        Path file = saved(name);
        Vm vm = platform.vms().restore(RestoreOptions.lazy(file, "restored", "none"), Progress.NONE);
        List<PostcopyServe> serves = platform.postcopy().serves();
        assertEquals(1, serves.size(), serves.toString());
        return new Served(file, vm, serves.getFirst());
    }

    /** A function guest saved after its first invocation, its VM stopped. */
    private Path saved(String name) {
        Path file = dir.resolve(name);
        Vm vm = platform.vms().boot(REQUEST, "qemu");
        vm.invoke(WAIT);
        vm.snapshot(file, false, Progress.NONE);
        return file;
    }

    private static void kill(QemuVm vm) {
        ProcessHandle qemu = ProcessHandle.of(vm.process().pid()).orElseThrow();
        assertTrue(qemu.destroyForcibly(), "SIGKILL to QEMU " + qemu.pid());
    }

    private static long results(Vm vm) {
        return vm.consoleText().lines().filter(l -> l.startsWith("result ")).count();
    }

    private static void awaitEnded(Vm vm) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (vm.info().status() == VmStatus.RUNNING) {
            assertTrue(System.nanoTime() < deadline, vm.id() + " still runs");
            LockSupport.parkNanos(1_000_000); // bounded polling for QEMU's end, which comes on another thread
        }
    }

    private static void assertFailedWithOneLine(Vm vm, String naming) {
        assertEquals(VmStatus.FAILED, vm.info().status(), vm.info().toString());
        assertOneLine(vm.info().reason());
        assertTrue(vm.info().reason().contains(naming), "the reason names " + naming + ": " + vm.info().reason());
    }

    private static void assertOneLine(String message) {
        assertFalse(message == null || message.isBlank(), "a reason is given");
        assertFalse(message.contains("\n"), "one line: " + message);
    }

    private static void assertServeFailed(PostcopyServe serve, Path file) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> serve.completion().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertOneLine(e.getCause().getMessage());
        assertTrue(e.getCause().getMessage().contains(file.toString()), e.getCause().getMessage());
        RestoreStats stats = serve.stats();
        assertTrue(stats.phase() == RestoreStats.Phase.FAILED || stats.phase() == RestoreStats.Phase.CLOSED, stats.toString());
    }
}
