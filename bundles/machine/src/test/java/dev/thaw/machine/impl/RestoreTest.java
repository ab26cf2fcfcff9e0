package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** Restoring VMs from snapshot files, good and bad. */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(120)
class RestoreTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    @Parameter
    String runtime;
    TestPlatform platform;
    Path good;

    @BeforeEach
    void start() {
        platform = new TestPlatform(runtime);
        Vm vm = platform.manager().boot(new BootRequest("src", 64L << 20, 2, Workload.FUNCTION, 5, 8L << 20, TouchOrder.SEQUENTIAL, 4096));
        vm.invoke(WAIT);
        good = dir.resolve("good.snap");
        vm.snapshot(good, false, Progress.NONE);
        // One VM booted and stopped first: the hypervisor keeps /dev/kvm open from then on.
    }

    @AfterEach
    void stop() {
        if (platform != null) { // null where the runtime cannot run here: the test was skipped
            platform.close();
        }
    }

    @Test
    void theInvocationAfterRestoreEqualsTheOneAfterTheSnapshotPoint() {
        Vm original = platform.manager().boot(new BootRequest("orig", 64L << 20, 1, Workload.FUNCTION, 9, 8L << 20, TouchOrder.SEQUENTIAL, 4096));
        original.invoke(WAIT);
        Path file = dir.resolve("mid.snap");
        original.snapshot(file, true, Progress.NONE);
        long before = System.nanoTime();
        Vm copy = platform.manager().restore(RestoreOptions.eager(file, "copy"), Progress.NONE);
        long call = System.nanoTime() - before;
        assertNull(original.info().resumeLatency(), "a booted VM has no resume latency");
        long resume = copy.info().resumeLatency().toNanos();
        assertTrue(resume > 0 && resume <= call, "resume latency " + resume + " ns lies within the restore call of " + call + " ns");
        for (int i = 0; i < 3; i++) {
            Invocation a = original.invoke(WAIT);
            Invocation b = copy.invoke(WAIT);
            assertEquals(a.index(), b.index());
            assertEquals(a.resultLine(), b.resultLine());
        }
        assertEquals(original.consoleText(), copy.consoleText());
    }

    @Test
    void aCorruptedPageFailsTheRestoreAndLeavesNothingBehind() throws IOException {
        Path bad = copy("bad-page.snap");
        long pageOffset;
        try (SnapshotReader r = platform.formats().open(good)) {
            assertTrue(r.isPresent(0, 0x100000 / 4096), "the guest image page is in the file");
        }
        pageOffset = firstPageAreaOffset(bad) + 0x100000 + 100; // inside the guest image's first page
        flip(bad, pageOffset);
        assertRefused(bad, "checksum");
    }

    @Test
    void aCorruptedPageDeepInAReadFailsAnEagerRestoreNamingThePage() throws IOException {
        // Not the first page of a run, nor of a piece the reader checks at a time: every piece is checked.
        long page;
        try (SnapshotReader r = platform.formats().open(good)) {
            page = -1;
            long runStart = -1;
            for (long p = 0; p < r.regions().get(0).pages() && page < 0; p++) {
                runStart = r.isPresent(0, p) ? (runStart < 0 ? p : runStart) : -1;
                if (runStart >= 0 && p - runStart > 100 && p % 64 == 37) {
                    page = p;
                }
            }
            assertTrue(page > 0, "the snapshot has a run of more than 100 present pages");
        }
        Path bad = copy("bad-deep.snap");
        flip(bad, firstPageAreaOffset(bad) + page * 4096 + 2000);
        assertRefused(bad, "page " + page + " of region ");
        assertRefused(bad, "fails its checksum");
    }

    @Test
    void aCorruptedPageFailsALazyRestoreWhenTheGuestNeedsItAndNamesThePage() throws IOException {
        Path bad = copy("bad-lazy.snap");
        flip(bad, firstPageAreaOffset(bad) + 0x100000 + 100); // the guest's code: needed at once
        long fds = GuestVmManagerTest.openFds();
        Vm vm = platform.manager().restore(RestoreOptions.lazy(bad, "lazy", "none"), Progress.NONE);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (vm.info().status() == VmStatus.RUNNING) {
            assertTrue(System.nanoTime() < deadline, "the VM runs on although its code page is corrupt");
            LockSupport.parkNanos(1_000_000);
        }
        assertEquals(VmStatus.FAILED, vm.info().status());
        assertTrue(vm.info().reason().contains("page 256"), vm.info().reason());
        assertTrue(vm.info().reason().contains("checksum"), vm.info().reason());
        vm.stop();
        assertEquals(fds, GuestVmManagerTest.openFds(), "no file descriptor is left behind");
    }

    @Test
    void truncatedAndForeignFilesAreRefusedWithTheirReason() throws IOException {
        Path truncated = copy("truncated.snap");
        try (RandomAccessFile f = new RandomAccessFile(truncated.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        assertRefused(truncated, "truncated.snap");
        Path foreign = dir.resolve("foreign.bin");
        Files.write(foreign, new byte[] {'Q', 'E', 'V', 'M', 0, 0, 0, 3});
        assertRefused(foreign, "not a snapshot of any installed format (thaw)");
        assertRefused(dir, "is a directory");
        assertRefused(dir.resolve("missing.snap"), "no such file");
    }

    /** Thaw snapshots start at byte 0: neither written nor read at an offset (QEMU's file:PATH,offset=N is for QEMU files). */
    @Test
    void aThawSnapshotAtAnOffsetIsRefusedWithOneLine() throws IOException {
        Path behind = dir.resolve("behind-a-header.snap");
        byte[] header = new byte[4096];
        Files.write(behind, header);
        Files.write(behind, Files.readAllBytes(good), StandardOpenOption.APPEND);
        SnapshotException e = assertThrows(SnapshotException.class,
                () -> platform.manager().restore(RestoreOptions.eager(behind, "victim").atOffset(4096), Progress.NONE));
        assertTrue(e.getMessage().startsWith(behind + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("start at byte 0, not at an offset of 4096"), e.getMessage());
        assertTrue(platform.manager().find("victim").isEmpty(), "no VM is left behind");

        Vm vm = platform.manager().boot(new BootRequest("at-offset", 64L << 20, 1, Workload.FUNCTION, 1, 1L << 20,
                TouchOrder.SEQUENTIAL, 4096));
        vm.awaitLine("result ", 0, WAIT);
        Path target = dir.resolve("never.snap");
        VmException refused = assertThrows(VmException.class, () -> vm.snapshot(target, 4096, false, Progress.NONE));
        assertEquals(1, refused.getMessage().lines().count(), refused.getMessage());
        assertTrue(refused.getMessage().contains("start at byte 0 of their file, not at 4096"), refused.getMessage());
        assertFalse(Files.exists(target), "nothing written");
        assertEquals(VmStatus.RUNNING, vm.info().status(), "the VM runs on");
    }

    /** Preloading the working set is for the qemu runtime's postcopy restores; a Thaw snapshot refuses it with one line. */
    @Test
    void aThawSnapshotRefusesAPreloadedWorkingSetWithOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> platform.manager().restore(
                RestoreOptions.lazy(good, "victim", "sequential").preloadingWorkingSet(), Progress.NONE));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(e.getMessage().contains(good.toString()) && e.getMessage().contains("qemu runtime"), e.getMessage());
        assertTrue(platform.manager().find("victim").isEmpty(), "no VM is left behind");
        IllegalArgumentException eager = assertThrows(IllegalArgumentException.class,
                () -> RestoreOptions.eager(good, "victim").preloadingWorkingSet());
        assertTrue(eager.getMessage().contains("eager"), eager.getMessage());
    }

    @Test
    void aNameInUseIsRefusedBeforeAnythingIsMade() throws IOException {
        platform.manager().restore(RestoreOptions.eager(good, "twin"), Progress.NONE);
        long fds = GuestVmManagerTest.openFds();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> platform.manager().restore(RestoreOptions.eager(good, "twin"), Progress.NONE));
        assertEquals("a VM named 'twin' exists already", e.getMessage());
        assertEquals(fds, GuestVmManagerTest.openFds());
    }

    private void assertRefused(Path file, String expected) throws IOException {
        long fds = GuestVmManagerTest.openFds();
        long threads = GuestVmManagerTest.vcpuThreads();
        SnapshotException e = assertThrows(SnapshotException.class, () -> platform.manager().restore(RestoreOptions.eager(file, "victim"), Progress.NONE));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
        assertTrue(platform.manager().find("victim").isEmpty(), "no VM is left behind");
        assertEquals(fds, GuestVmManagerTest.openFds(), "no file descriptor is left behind");
        assertEquals(threads, GuestVmManagerTest.vcpuThreads(), "no vCPU thread is left behind");
    }

    private Path copy(String name) throws IOException {
        Path target = dir.resolve(name);
        Files.copy(good, target);
        return target;
    }

    /**
     * The first region's page area offset, found as docs/snapshot-format.md says: the header's u64 at
     * 32 locates the region table, whose first entry holds the page area offset as a u64 at 16.
     */
    static long firstPageAreaOffset(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long table = Long.reverseBytes(readLong(f, 32));
            return Long.reverseBytes(readLong(f, table + 16));
        }
    }

    private static long readLong(RandomAccessFile f, long at) throws IOException {
        f.seek(at);
        return f.readLong();
    }

    private static void flip(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
    }
}
