package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.Workload;
import dev.thaw.support.guest.ConsoleLog;
import dev.thaw.testing.RequiresQemu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots of the qemu runtime are proven by continuation, as {@code ContinuationTest} proves the Thaw
 * runtimes': the function guest saved by QEMU at a seeded moment (between invocations, during one, with
 * requests still unread) and restored by Thaw in every mode must print exactly what a QEMU run that never
 * stopped prints, everything before the snapshot included. The reference is such a run, made once here: the
 * guest is smaller than {@code KnownAnswers}' so that the many restores stay quick, and it answers more
 * invocations than those cover.
 */
@RequiresQemu
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class QemuContinuationTest {

    static final Duration WAIT = Duration.ofSeconds(60);
    /** Invocations each run answers, after the result of its initial fill. */
    static final int INVOCATIONS = 6;
    static final int MOMENTS = 10;
    static final long SEED = 13;
    /** 64 MiB, an 8 MiB working set: a restore with {@code none} serves each of its pages on request. */
    static final BootRequest REQUEST = new BootRequest(null, 64L << 20, 1, Workload.FUNCTION, SEED, 8L << 20,
            TouchOrder.SEQUENTIAL, 4096);
    /** Eager (QEMU's own load), and lazy with every policy the platform ships ({@code none} is pure demand loading). */
    static final List<String> MODES = List.of("eager", "none", "sequential", "hot-page-first", "prefetch-window");

    @TempDir
    Path dir;
    QemuPlatform platform;
    String reference;

    @BeforeAll
    void referenceRun() {
        platform = new QemuPlatform();
        reference = runThrough();
        assertEquals(reference, runThrough(), "two QEMU runs that never stopped differ: the guest is not deterministic");
        assertEquals(INVOCATIONS + 1, reference.lines().filter(l -> l.startsWith("result function ")).count(), reference);
    }

    /** Boots and runs every invocation with no stop: the output a restored guest must reproduce. */
    private String runThrough() {
        Vm vm = platform.vms().boot(REQUEST, "qemu");
        awaitResults(vm, 1); // the guest drains its UART while it initializes
        return runToEnd(vm, INVOCATIONS);
    }

    @AfterAll
    void nothingLeftRunning() {
        QemuLeftovers.assertNoneAfterClosing(platform);
    }

    /**
     * Where the guest is when QEMU saves it. The requests of a running or pending invocation are sent with an
     * earlier one, and the save waits for the answer to that: some are in the guest's RX ring by then, some in
     * QEMU's UART, and some QEMU has not read yet (the runtime keeps those in the session file and sends them first).
     */
    enum Kind {
        /** {@code done} invocations answered, nothing asked. */
        BETWEEN,
        /** The next invocation asked and running, its result not yet printed. */
        DURING,
        /** The next invocation running, and the one after it asked too: unread input in the guest's RX ring. */
        PENDING
    }

    /** A snapshot moment: what the guest has been asked before QEMU saves it. */
    record Moment(Kind kind, int done) {

        /** A moment of {@code kind} after a seeded random number of invocations. */
        static Moment random(Kind kind, Random random) {
            int first = kind == Kind.BETWEEN ? 0 : 1; // the requests of a running invocation come with an earlier one
            int last = INVOCATIONS - Math.max(1, kind.ordinal()); // and something is left to do after the restore
            return new Moment(kind, first + random.nextInt(last - first + 1));
        }

        /** The invocations asked at this moment. */
        int sent() {
            return done + kind.ordinal();
        }

        /**
         * Brings {@code vm}, asked {@code sent} invocations so far, to this moment; returns the invocations asked
         * then.
         */
        int reach(Vm vm, int sent) {
            assertTrue(kind == Kind.BETWEEN ? sent <= done : sent < done, this + " cannot follow " + sent + " invocations asked");
            awaitResults(vm, sent + 1);
            for (int i = sent; i < done; i++) {
                vm.sendInput(ConsoleLog.INVOKE_REQUEST.repeat(i == done - 1 ? 1 + kind.ordinal() : 1));
                awaitResults(vm, i + 2);
            }
            return sent();
        }
    }

    @Test
    void aGuestSavedByQemuBetweenInvocationsContinuesExactlyInEveryMode() {
        continuesExactlyFrom(List.of(Kind.BETWEEN));
    }

    /**
     * Failed before the runtime kept unread input: bytes Thaw sent that QEMU had not yet read when it saved were in
     * neither the snapshot nor the session file, so the restored guest never got them (3 of 10 moments here, in
     * every mode alike).
     */
    @Test
    void aGuestSavedByQemuDuringAnInvocationOrWithInputPendingContinuesExactlyInEveryMode() {
        continuesExactlyFrom(List.of(Kind.DURING, Kind.PENDING));
    }

    /**
     * Input QEMU cannot have read when it saves: sent while QEMU is stopped, more than its UART's 16-byte FIFO takes.
     * The snapshot keeps the rest in its session file; the restored guest in every mode, and the saved one going on,
     * answer those requests and continue exactly.
     */
    @Test
    void inputQemuHadNotReadWhenItSavedReachesTheRestoredGuestFirst() {
        Path file = dir.resolve("unread.mr");
        Vm vm = platform.vms().boot(REQUEST, "qemu");
        int sent = new Moment(Kind.BETWEEN, 1).reach(vm, 0);
        ((QemuVm) vm).process().qmp().execute("stop"); // the guest reads nothing now, QEMU at most a FIFO's worth
        String asked = ConsoleLog.INVOKE_REQUEST.repeat(4);
        vm.sendInput(asked);
        sent += 4;
        vm.snapshot(file, true, Progress.NONE); // and the saved guest goes on
        int unread = SessionFile.readFor(file, 0).unreadInputOrNone().length;
        assertTrue(unread >= asked.length() - 16, unread + " bytes of " + asked.length() + " kept as unread input");
        assertEquals(reference, runToEnd(vm, INVOCATIONS - sent), "the saved guest, given its input back");
        for (String mode : MODES) {
            Vm restored = platform.vms().restore(options(mode, file), Progress.NONE);
            assertEquals(reference, runToEnd(restored, INVOCATIONS - sent), mode);
        }
    }

    /**
     * A restore that loads the recorded working set before the guest runs continues exactly too, with every policy
     * for the rest: saved with a request pending, recorded on a first restore, then preloaded.
     */
    @Test
    void aGuestRestoredWithItsWorkingSetPreloadedContinuesExactly() throws IOException {
        Path file = dir.resolve("preloaded.mr");
        Vm vm = platform.vms().boot(REQUEST, "qemu");
        int sent = new Moment(Kind.PENDING, 2).reach(vm, 0);
        vm.snapshot(file, false, Progress.NONE);
        Vm recording = platform.vms().restore(new RestoreOptions(file, null, false, "hot-page-first", 0, true), Progress.NONE);
        recording.sendInput(ConsoleLog.INVOKE_REQUEST.repeat(INVOCATIONS - sent));
        awaitResults(recording, INVOCATIONS + 1);
        assertTrue(Files.size(recording.saveProfile()) > 0, "the profile of every page the guest asked for was written");
        assertEquals(reference, recording.consoleText(), "recording");
        recording.stop();
        for (String policy : MODES.subList(1, MODES.size())) {
            Vm restored = platform.vms().restore(RestoreOptions.lazy(file, null, policy).preloadingWorkingSet(), Progress.NONE);
            assertEquals(reference, runToEnd(restored, INVOCATIONS - sent), policy + ", working set preloaded");
        }
    }

    /** Saves at {@link #MOMENTS} moments of {@code kinds} in turn, each restored in every mode. */
    private void continuesExactlyFrom(List<Kind> kinds) {
        Random random = new Random(SEED);
        List<Moment> inside = new ArrayList<>(); // moments saved with an invocation indeed still running
        for (int m = 0; m < MOMENTS; m++) {
            Moment moment = Moment.random(kinds.get(m % kinds.size()), random);
            Path file = dir.resolve("moment-" + m + ".mr");
            Vm vm = platform.vms().boot(REQUEST, "qemu");
            int sent = moment.reach(vm, 0);
            vm.snapshot(file, false, Progress.NONE);
            if (moment.kind() != Kind.BETWEEN && countResults(vm) == moment.done() + 1) {
                inside.add(moment);
            }
            for (String mode : MODES) {
                Vm restored = platform.vms().restore(options(mode, file), Progress.NONE);
                assertEquals(reference, runToEnd(restored, INVOCATIONS - sent), mode + ": saved at moment " + m + " " + moment
                        + " (seed " + SEED + ")");
            }
        }
        assertTrue(kinds.equals(List.of(Kind.BETWEEN)) || !inside.isEmpty(),
                "no save fell inside an invocation: the guest answered each before QEMU stopped it");
    }

    /**
     * Saved and restored three times, each restore in another mode, the guest still continues exactly: saved between
     * invocations, with a request pending, and between again.
     */
    @Test
    void aChainOfSavesAndRestoresStillContinuesExactly() {
        List<Moment> moments = List.of(new Moment(Kind.BETWEEN, 1), new Moment(Kind.PENDING, 2), new Moment(Kind.BETWEEN, 5));
        List<String> modes = List.of("sequential", "prefetch-window", "hot-page-first", "eager");
        Vm vm = platform.vms().boot(REQUEST, "qemu");
        int sent = 0;
        for (int depth = 0; depth < moments.size(); depth++) {
            sent = moments.get(depth).reach(vm, sent); // the restored guest first answers what it was asked
            Path file = dir.resolve("chain-" + depth + ".mr");
            vm.snapshot(file, false, Progress.NONE);
            vm = platform.vms().restore(options(modes.get(depth), file), Progress.NONE);
        }
        Path last = dir.resolve("chain-last.mr");
        vm.snapshot(last, false, Progress.NONE);
        vm = platform.vms().restore(options(modes.getLast(), last), Progress.NONE);
        assertEquals(reference, runToEnd(vm, INVOCATIONS - sent), "after a chain of " + (moments.size() + 1) + " saves");
    }

    private static RestoreOptions options(String mode, Path file) {
        return mode.equals("eager") ? RestoreOptions.eager(file, null) : RestoreOptions.lazy(file, null, mode);
    }

    /** Asks the {@code remaining} invocations, waits for every result and returns the whole console output. */
    private static String runToEnd(Vm vm, int remaining) {
        if (remaining > 0) {
            vm.sendInput(ConsoleLog.INVOKE_REQUEST.repeat(remaining));
        }
        awaitResults(vm, INVOCATIONS + 1);
        String text = vm.consoleText();
        vm.stop();
        return text;
    }

    /** Complete result lines so far, as the VM's console log counts them (history from its snapshots included). */
    private static int countResults(Vm vm) {
        return ((QemuVm) vm).console().resultCount();
    }

    /** Waits for the guest's {@code count}th result line. */
    private static void awaitResults(Vm vm, int count) {
        ((QemuVm) vm).console().awaitResult(count - 1, WAIT, vm::id);
    }
}
