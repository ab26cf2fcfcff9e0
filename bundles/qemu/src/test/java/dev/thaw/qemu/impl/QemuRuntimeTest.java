package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.RuntimeInfo;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.testing.KnownAnswers;
import dev.thaw.testing.RequiresQemu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The qemu runtime through the VM manager, as {@code thaw:boot --runtime qemu}, {@code thaw:snapshot} and
 * {@code thaw:restore} use it: the guest's known answers computed by QEMU, its snapshots saved by QEMU and
 * restored eagerly by QEMU or lazily by Thaw's postcopy source, continuing exactly.
 */
@RequiresQemu
@Timeout(180)
class QemuRuntimeTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    final QemuPlatform platform = new QemuPlatform();

    @AfterEach
    void nothingLeftRunning() {
        platform.close();
        assertEquals(List.of(), QemuPlatform.qemusLeft(), "QEMU processes left behind");
    }

    @Test
    void isListedWithTheOtherRuntimesAndNotTheDefault() {
        RuntimeInfo qemu = platform.vms().runtimes().stream().filter(r -> r.name().equals("qemu")).findFirst().orElseThrow();
        assertTrue(qemu.available(), qemu.toString());
        assertFalse(qemu.isDefault(), qemu.toString());
        assertTrue(qemu.description().contains("QEMU 1"), qemu.description());
    }

    @Test
    void theFunctionGuestGivesTheKnownAnswersInQemu() {
        Vm vm = platform.vms().boot(KnownAnswers.function("q1", 1), "qemu");
        assertEquals("qemu", vm.info().runtime());
        assertEquals(KnownAnswers.FUNCTION.get(0), vm.awaitLine("result ", 0, WAIT));
        for (int i = 1; i <= 3; i++) {
            assertEquals(KnownAnswers.FUNCTION.get(i), vm.invoke(WAIT).resultLine());
        }
        assertEquals(List.of(vm), platform.vms().list());
        vm.stop();
        assertEquals(VmStatus.STOPPED, vm.info().status());
        assertEquals(List.of(), platform.vms().list(), "a stopped VM leaves the list");
        assertEquals(List.of(), QemuPlatform.qemusLeft());
    }

    @Test
    void theRuntimesDeactivationEndsTheQemusOfItsVms() {
        Vm vm = platform.vms().boot(KnownAnswers.function("q2", 1), "qemu");
        assertEquals(KnownAnswers.FUNCTION.get(0), vm.awaitLine("result ", 0, WAIT));
        assertEquals(1, QemuPlatform.qemusLeft().size());
        platform.runtime().deactivate();
        assertEquals(List.of(), QemuPlatform.qemusLeft(), "the bundle stopped, its QEMUs with it");
        assertEquals(VmStatus.STOPPED, vm.info().status());
        assertEquals(List.of(), platform.vms().list());
    }

    /**
     * --record-profile on the qemu runtime: pages on demand only until the first invocation is done, its requests
     * written as the snapshot's profile, then the rest sent; a hot-page-first restore then reads that profile.
     */
    @Test
    void aRecordingRestoreWritesTheProfileAHotPageFirstRestoreReads() throws Exception {
        Path file = dir.resolve("function.mr");
        Vm vm = platform.vms().boot(KnownAnswers.function("saved", 1), "qemu");
        assertEquals(KnownAnswers.FUNCTION.get(1), vm.invoke(WAIT).resultLine());
        vm.snapshot(file, false, Progress.NONE);
        Path profile = platform.vms().profileFile(file);

        Vm recording = platform.vms().restore(new RestoreOptions(file, "rec", false, "hot-page-first", 0, true), Progress.NONE);
        assertFalse(Files.exists(profile), "written only when the first invocation is done");
        assertEquals(KnownAnswers.FUNCTION.get(2), recording.invoke(WAIT).resultLine());
        assertTrue(Files.size(profile) > 0, profile + " written");
        RestoreStats recorded = recording.awaitLoaded(WAIT, Progress.NONE).orElseThrow();
        assertEquals(RestoreStats.Phase.COMPLETE, recorded.phase(), "the rest was sent after the profile: " + recorded);
        assertEquals(0, recorded.pagesPrefetch(), "nothing but requests while recording: " + recorded);
        assertTrue(recorded.faults() > 1000, "the invocation touched its 32 MiB working set on demand: " + recorded);
        recording.stop();

        Vm hot = platform.vms().restore(RestoreOptions.lazy(file, "hot", "hot-page-first"), Progress.NONE);
        assertEquals(KnownAnswers.FUNCTION.get(2), hot.invoke(WAIT).resultLine());
        RestoreStats served = hot.awaitLoaded(WAIT, Progress.NONE).orElseThrow();
        System.out.printf("first invocation on demand: %d requests; with the recorded profile first: %d requests%n",
                recorded.faults(), served.faults());
        hot.stop();

        // Preloaded, even with none (nothing else sent unless asked for): the guest runs with its working set in,
        // and its first invocation asks for no page at all.
        Vm preloaded = platform.vms().restore(RestoreOptions.lazy(file, "preloaded", "none").preloadingWorkingSet(), Progress.NONE);
        RestoreStats atResume = preloaded.restoreStats().orElseThrow();
        assertTrue(atResume.pagesBackground() > 1000, "the working set went before the guest ran: " + atResume);
        assertEquals(KnownAnswers.FUNCTION.get(2), preloaded.invoke(WAIT).resultLine());
        RestoreStats afterInvocation = preloaded.restoreStats().orElseThrow();
        assertEquals(0, afterInvocation.faults(), "the first invocation found every page it touched: " + afterInvocation);
        assertEquals(atResume.pagesBackground(), afterInvocation.pagesBackground(), "none sends nothing unasked after that");
    }

    /** A VM restored with none loads only what its guest touches: saving it sends the rest first, then saves. */
    @Test
    void aGuestRestoredWithNoneCanBeSavedAndRestoredAgain() {
        Path file = dir.resolve("function.mr");
        Vm vm = platform.vms().boot(KnownAnswers.function("saved", 1), "qemu");
        assertEquals(KnownAnswers.FUNCTION.get(1), vm.invoke(WAIT).resultLine());
        vm.snapshot(file, false, Progress.NONE);
        Vm demand = platform.vms().restore(RestoreOptions.lazy(file, "demand", "none"), Progress.NONE);
        assertEquals(KnownAnswers.FUNCTION.get(2), demand.invoke(WAIT).resultLine());
        Path again = dir.resolve("again.mr");
        demand.snapshot(again, false, Progress.NONE);
        assertEquals(RestoreStats.Phase.COMPLETE, demand.restoreStats().orElseThrow().phase());
        Vm back = platform.vms().restore(RestoreOptions.lazy(again, "back", "sequential"), Progress.NONE);
        assertEquals(KnownAnswers.FUNCTION.get(3), back.invoke(WAIT).resultLine());
    }

    /** Saved by QEMU after invocation 1, restored each way, the guest goes on with invocations 2 and 3. */
    @ParameterizedTest
    @ValueSource(strings = {"eager", "none", "sequential", "hot-page-first", "prefetch-window"})
    void aGuestSavedByQemuContinuesExactlyAfterARestore(String how) {
        Path file = dir.resolve("function.mr");
        Vm vm = platform.vms().boot(KnownAnswers.function("saved", 1), "qemu");
        assertEquals(KnownAnswers.FUNCTION.get(1), vm.invoke(WAIT).resultLine());
        vm.snapshot(file, false, Progress.NONE);
        assertEquals(VmStatus.STOPPED, vm.info().status(), "saved and stopped");
        assertTrue(Files.isRegularFile(SessionFile.of(file)));

        boolean eager = how.equals("eager");
        Vm restored = platform.vms().restore(new RestoreOptions(file, "back", eager, eager ? null : how, 0, false), Progress.NONE);
        assertEquals("qemu", restored.info().runtime());
        assertTrue(restored.info().resumeLatency() != null);
        assertEquals(KnownAnswers.FUNCTION.get(2), restored.invoke(WAIT).resultLine());
        assertEquals(2, restored.invoke(WAIT).index() - 1, "invocations count on from the snapshot");
        if (!eager && !how.equals("none")) {
            RestoreStats stats = restored.awaitLoaded(WAIT, Progress.NONE).orElseThrow();
            assertEquals(RestoreStats.Phase.COMPLETE, stats.phase(), stats.toString());
            assertEquals(stats.presentPages(), stats.loadedPages());
            // QEMU 10.0 takes zero pages on request: only those the guest or its devices asked for went
            assertTrue(stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground() < stats.pages(), stats.toString());
        }
        assertTrue(restored.consoleText().contains(KnownAnswers.FUNCTION.get(3)), restored.consoleText());
    }

    /**
     * {@code file:PATH,offset=N}: a save keeps the file's first N bytes (another program's header, say) and writes
     * QEMU's stream after them; a restore at that offset, eager and lazy, continues exactly, and one at another
     * offset, or of the file as a whole, is refused with one line before any QEMU starts.
     */
    @Test
    void aSnapshotAtAnOffsetKeepsTheBytesBeforeItAndRestoresFromThere() throws IOException {
        Path file = dir.resolve("with-header.img");
        long offset = 3 * 4096;
        byte[] header = new byte[(int) offset];
        new Random(5).nextBytes(header);
        Files.write(file, header);
        Vm vm = platform.vms().boot(KnownAnswers.function("saved", 1), "qemu");
        assertEquals(KnownAnswers.FUNCTION.get(1), vm.invoke(WAIT).resultLine());
        vm.snapshot(file, offset, false, Progress.NONE);
        byte[] head = new byte[header.length];
        try (var in = Files.newInputStream(file)) {
            assertEquals(header.length, in.readNBytes(head, 0, head.length));
        }
        assertArrayEquals(header, head, "the bytes before the offset are as they were");

        for (RestoreOptions refused : List.of(RestoreOptions.eager(file, "whole"), RestoreOptions.eager(file, "other").atOffset(offset + 4096))) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> platform.vms().restore(refused, Progress.NONE));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertEquals(List.of(), QemuPlatform.qemusLeft());
        }
        Vm eager = platform.vms().restore(RestoreOptions.eager(file, "eager").atOffset(offset), Progress.NONE);
        assertEquals(KnownAnswers.FUNCTION.get(2), eager.invoke(WAIT).resultLine());
        eager.stop();
        Vm lazy = platform.vms().restore(RestoreOptions.lazy(file, "lazy", "sequential").atOffset(offset), Progress.NONE);
        assertEquals(KnownAnswers.FUNCTION.get(2), lazy.invoke(WAIT).resultLine());
        assertEquals(RestoreStats.Phase.COMPLETE, lazy.awaitLoaded(WAIT, Progress.NONE).orElseThrow().phase());
        assertEquals(KnownAnswers.FUNCTION.get(3), lazy.invoke(WAIT).resultLine());
    }
}
