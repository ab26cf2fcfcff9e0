package dev.thaw.qemu.impl;

import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SessionState;
import dev.thaw.api.snapshot.SnapshotSummary;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmInfo;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import dev.thaw.support.guest.ConsoleLog;
import dev.thaw.support.guest.VmRefusals;
import dev.thaw.support.qemu.QmpClient;
import dev.thaw.support.qemu.QmpException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM of the qemu runtime: the test guest in a QEMU child process, its COM1 wired to a console log. The guest's
 * exit through the debug exit port ends QEMU with status {@code (code << 1) | 1}, which is how its code comes
 * back. A VM restored lazily holds its postcopy serve until every page is in QEMU.
 */
final class QemuVm implements Vm {

    private static final Logger LOG = LoggerFactory.getLogger(QemuVm.class);
    static final String RUNTIME = "qemu";
    /** How long QEMU may take to answer a monitor command that does not move guest memory. */
    static final Duration INPUT_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Java reports a process ended by signal N as exit status 128 + N. The test guest's debug exits never fall in
     * 129..159: its codes 0, 1 and 0xE0 + vector give statuses 1, 3 and 0xC1..0xFF (guest/README.md).
     */
    static final int SIGNALLED = 128;

    private final String id;
    private final BootRequest request;
    private final QemuMachine machine;
    private final long requestedNanos;
    private final Consumer<Vm> onStopped;
    private final ConsoleLog console = new ConsoleLog();
    /** Held by every user of the monitor (one caller at a time), and across an invocation or a snapshot. */
    private final Object monitor = new Object();
    private final SnapshotSaver saver;
    private QemuProcess qemu;
    private volatile PostcopyServe serve;
    private volatile VmStatus status = VmStatus.RUNNING;
    private volatile int exitCode = -1;
    private volatile String reason = "";
    private volatile Duration resumeLatency;
    private int invocations;
    /** Invocations sent before the snapshot this VM was restored from (0 for a booted VM). */
    private final int invokedAtRestore;
    private boolean released;
    /** Run once when the guest has settled ({@link #onceSettled}); null once run. */
    private Runnable whenSettled;
    /** When the serve started ({@link System#nanoTime()}): its figures count from there. */
    private volatile long serveStartNanos;
    /** Whether the serve still records the guest's first touches (until the first invocation is done). */
    private volatile boolean recording;
    /** Whether the serve still holds back its background (a preloaded restore, until the first invocation is done). */
    private volatile boolean held;

    QemuVm(String id, BootRequest request, QemuMachine machine, SessionState session, long requestedNanos,
            Consumer<Vm> onStopped, SnapshotSaver saver) {
        this.id = id;
        this.request = request;
        this.machine = machine;
        this.requestedNanos = requestedNanos;
        this.onStopped = onStopped;
        this.saver = saver;
        if (session != null) {
            console.restore(session.consoleText(), session.consoleBytes(), session.results());
            invocations = session.invocations();
        }
        invokedAtRestore = invocations;
    }

    ConsoleLog console() {
        return console;
    }

    /** Takes over the running QEMU: its end ends this VM. */
    void attach(QemuProcess process) {
        this.qemu = process;
        process.exit().whenComplete((exitStatus, e) -> ended(exitStatus == null ? -1 : exitStatus));
    }

    /**
     * The lazy restore this VM comes from: its failure fails the VM (QEMU has no memory behind its guest then).
     * A serve that records a working-set profile saves it when the first invocation is done, then sends the rest.
     * {@code held}: the serve holds back its background until it is told to start it, which comes with the
     * guest's first result line after the restore (its first invocation done), or at once where something waits for
     * the whole memory ({@link #awaitLoaded}; a snapshot loads the rest anyway).
     */
    void servedBy(PostcopyServe serve, boolean recording, boolean held, long startedNanos) {
        this.serve = serve;
        this.serveStartNanos = startedNanos;
        this.recording = recording;
        this.held = held;
        if (held) {
            console.whenResults(console.resultCount() + 1, this::startBackground);
        }
        serve.completion().whenComplete((stats, e) -> {
            if (e != null) {
                fail("its memory could not be loaded: " + rootMessage(e));
            }
        });
    }

    /**
     * Runs {@code task} once the restored guest has settled: its memory all in and, for the {@code function}
     * workload, its first invocation done; or when the VM stops or fails, if that comes first.
     */
    void onceSettled(Runnable task) {
        synchronized (this) {
            whenSettled = task;
        }
        if (request.workload() != Workload.FUNCTION || invocations > invokedAtRestore) {
            settledOnceLoaded();
        }
    }

    private void settled() {
        Runnable task;
        synchronized (this) {
            task = whenSettled;
            whenSettled = null;
        }
        if (task != null) {
            task.run();
        }
    }

    /** The moment every vCPU runs again after a restore. */
    void resumed() {
        resumeLatency = Duration.ofNanos(System.nanoTime() - requestedNanos);
    }

    QemuProcess process() {
        return qemu;
    }

    QemuMachine machine() {
        return machine;
    }

    BootRequest request() {
        return request;
    }

    /** QEMU ended: the guest's exit, QEMU's own failure, or our stop. */
    private void ended(int exitStatus) {
        if (status != VmStatus.RUNNING && status != VmStatus.PAUSED) {
            return; // stopped or failed already: that reason stands
        }
        qemu.serial().drain(); // the guest's last words, written before QEMU ended
        String said = qemu.lastStderrLine();
        if (exitStatus > SIGNALLED && exitStatus < SIGNALLED + 32) {
            reason = "QEMU was killed by signal " + (exitStatus - SIGNALLED) + (said.isEmpty() ? "" : ": " + said);
            status = VmStatus.FAILED;
            LOG.warn("{} failed: {}", id, reason);
            console.end("the VM failed: " + reason);
            return;
        }
        // isa-debug-exit gives odd statuses; QEMU's own fatal errors exit 1 too, but say why on stderr first
        if ((exitStatus & 1) == 1 && said.isEmpty()) {
            exitCode = exitStatus >> 1;
            status = VmStatus.EXITED;
            LOG.info("{}: guest exited with code {}", id, exitCode);
            console.end("the guest exited with code " + exitCode);
        } else {
            reason = "QEMU exited with " + exitStatus + (said.isEmpty() ? "" : ": " + said);
            status = VmStatus.FAILED;
            LOG.warn("{} failed: {}", id, reason);
            console.end("the VM failed: " + reason);
        }
    }

    private void fail(String why) {
        if (status != VmStatus.RUNNING && status != VmStatus.PAUSED) {
            return;
        }
        reason = why;
        status = VmStatus.FAILED;
        LOG.error("{} failed: {}", id, why);
        console.end("the VM failed: " + why);
        // A QEMU whose source is gone waits in postcopy-paused forever: end it now.
        Thread.ofPlatform().name("fail-" + id).start(() -> {
            QemuProcess q = qemu;
            if (q != null) {
                q.close();
            }
        });
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public VmInfo info() {
        return new VmInfo(id, status, request.memoryBytes(), request.vcpus(), request.workload(),
                Duration.ofNanos(System.nanoTime() - requestedNanos), exitCode, reason, console.firstOutput(), resumeLatency, RUNTIME);
    }

    @Override
    public String consoleText() {
        return console.text();
    }

    @Override
    public long consoleBytesWritten() {
        return console.bytesWritten();
    }

    @Override
    public void sendInput(String text) {
        requireRunning("send input");
        try {
            qemu.serial().send(text.getBytes(StandardCharsets.UTF_8), INPUT_TIMEOUT);
        } catch (IOException e) {
            requireRunning("send input"); // it ended meanwhile: say so
            throw new VmException(id + ": console input: " + e.getMessage(), e);
        }
    }

    @Override
    public String awaitLine(String prefix, long fromByte, Duration timeout) {
        return console.awaitLine(prefix, fromByte, timeout, this::id);
    }

    @Override
    public Invocation invoke(Duration timeout) {
        if (request.workload() != Workload.FUNCTION) {
            throw new VmException(id + " runs the " + request.workload().label() + " workload; only function can be invoked");
        }
        synchronized (monitor) {
            requireRunning("invoke");
            int index = invocations + 1;
            Invocation done = console.invoke(index, () -> {
                sendInput(ConsoleLog.INVOKE_REQUEST);
                invocations = index; // sent: counted even if its result never comes
            }, timeout, this::id);
            if (recording) {
                saveProfile();
            }
            if (index == invokedAtRestore + 1) {
                settledOnceLoaded(); // the first invocation after the restore is done
            }
            return done;
        }
    }

    @Override
    public SnapshotSummary snapshot(Path file, boolean resume, Progress progress) {
        return snapshot(file, 0, resume, progress);
    }

    @Override
    public SnapshotSummary snapshot(Path file, long offset, boolean resume, Progress progress) {
        if (offset < 0) {
            throw new VmException(id + ": a snapshot cannot start at byte " + offset + " of its file");
        }
        synchronized (monitor) {
            requireRunning("snapshot");
            awaitServed(); // QEMU saves only a VM whose incoming migration has completed
            boolean written = false;
            byte[] unread = null;
            try {
                QmpClient qmp = qemu.qmp();
                qmp.execute("stop");
                status = VmStatus.PAUSED;
                unread = qemu.serial().holdInput(); // input QEMU has not read: QEMU's saved state lacks it
                qemu.serial().drain(); // every byte printed before the stop, into the session
                SessionState session = new SessionState(console.text(), console.bytesWritten(), console.resultCount(), invocations);
                SnapshotSummary summary = saver.save(qemu, file, offset, request, machine, session, unread, progress);
                written = true;
                LOG.info("{}: snapshot {} written by QEMU ({} present pages, {} zero pages, {} bytes of unread input)", id, file,
                        summary.presentPages(), summary.zeroPages(), unread.length);
                return summary;
            } catch (IOException e) {
                throw new VmException(id + ": " + e.getMessage(), e);
            } catch (QmpException e) {
                requireRunning("snapshot");
                throw new VmException(id + ": " + e.getMessage(), e);
            } finally {
                if (unread != null) {
                    giveBackInput(resume || !written ? unread : new byte[0]);
                }
                if (resume || !written) {
                    resumeAfterSnapshot();
                } else {
                    stop();
                }
            }
        }
    }

    /** Ends the hold on the guest's input, putting back what the snapshot took from it where the guest goes on. */
    private void giveBackInput(byte[] unread) {
        try {
            qemu.serial().releaseInput(unread);
        } catch (IOException e) {
            fail("its console input could not be given back after the snapshot: " + e.getMessage());
        }
    }

    /**
     * Sends the input the snapshot's QEMU had not read, before anything else: called once the restored QEMU has
     * loaded its UART's state, so that what it had read comes first.
     */
    void resendUnreadInput(byte[] unread) {
        if (unread.length == 0) {
            return;
        }
        try {
            qemu.serial().send(unread, INPUT_TIMEOUT);
        } catch (IOException e) {
            throw qemu.failure("cannot send the " + unread.length + " bytes of input the snapshot held: " + e.getMessage());
        }
    }

    private void resumeAfterSnapshot() {
        if (status != VmStatus.PAUSED) {
            return;
        }
        try {
            qemu.qmp().execute("cont");
            status = VmStatus.RUNNING;
        } catch (QmpException e) {
            fail("QEMU did not resume after the snapshot: " + e.getMessage());
        }
    }

    private void awaitServed() {
        PostcopyServe s = serve;
        if (s == null) {
            return;
        }
        s.loadRemaining(); // a policy without background loading (none) would never send the rest
        try {
            s.completion().get(SnapshotSaver.SAVE_TIMEOUT.toMinutes(), TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            throw new VmException("cannot snapshot " + id + ": its memory could not be loaded: " + rootMessage(e));
        } catch (TimeoutException e) {
            throw new VmException("cannot snapshot " + id + ": its memory was not all loaded within "
                    + SnapshotSaver.SAVE_TIMEOUT.toMinutes() + " min");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("cannot snapshot " + id + ": interrupted while its memory loaded");
        }
    }

    @Override
    public Optional<RestoreStats> restoreStats() {
        PostcopyServe s = serve;
        return s == null ? Optional.empty() : Optional.of(fromCommand(s.stats()));
    }

    /**
     * The serve's figures with its times counted from the restore command, as every restore's are: the resume is
     * this VM's (to QEMU's RESUME event), the full load is shifted by the time from the command to the serve's start.
     */
    private RestoreStats fromCommand(RestoreStats s) {
        Duration resumed = resumeLatency;
        long before = serveStartNanos - requestedNanos;
        return new RestoreStats(s.policy(), s.phase(), s.pages(), s.presentPages(), s.loadedPages(),
                resumed == null ? s.resumeLatency() + before : resumed.toNanos(),
                s.fullLoadTime() <= 0 ? s.fullLoadTime() : s.fullLoadTime() + before, s.faults(), s.faultLatencyP50(),
                s.faultLatencyP99(), s.blocktime(), s.pagesFault(), s.pagesPrefetch(), s.pagesBackground(), s.pagesWasted(),
                s.bytesRead(), s.bandwidth(), s.policyErrors(), s.policyProblem());
    }

    @Override
    public Optional<RestoreStats> awaitLoaded(Duration timeout, Progress progress) {
        PostcopyServe s = serve;
        if (s == null) {
            return Optional.empty();
        }
        startBackground(); // waiting for the whole memory: a held background goes now
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            RestoreStats now = s.stats();
            progress.update(now.loadedPages(), now.presentPages());
            try {
                s.completion().get(Math.min(100, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)), TimeUnit.MILLISECONDS);
                RestoreStats done = fromCommand(s.stats());
                progress.update(done.loadedPages(), done.presentPages());
                if (invocations > invokedAtRestore) {
                    settled(); // here too, not only on the serve's thread: what waits for settling runs before this returns
                }
                return Optional.of(done);
            } catch (ExecutionException e) {
                return Optional.of(fromCommand(s.stats())); // phase FAILED; the VM says why
            } catch (TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new VmException(id + ": its memory was not all loaded within " + timeout.toSeconds() + " s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmException(id + ": interrupted while waiting for its memory");
            }
        }
    }

    /** Ends a hold of the serve's background, if it still holds. */
    private void startBackground() {
        PostcopyServe s = serve;
        if (held && s != null) {
            held = false;
            s.startBackground();
        }
    }

    /** Ends the recording: writes the profile, then sends every page not yet sent. */
    @Override
    public Path saveProfile() {
        PostcopyServe s = serve;
        if (s == null || !recording) {
            throw new VmException(id + " is not recording a working-set profile (restore it with --record-profile)");
        }
        recording = false;
        Path saved = s.saveProfile();
        s.loadRemaining();
        LOG.info("{}: working-set profile written to {}", id, saved);
        return saved;
    }

    @Override
    public void stop() {
        if (status == VmStatus.RUNNING || status == VmStatus.PAUSED) {
            status = VmStatus.STOPPED;
        }
        release();
    }

    /** The guest settles now, or once its memory is all in where a lazy restore still loads it. */
    private void settledOnceLoaded() {
        PostcopyServe s = serve;
        if (s == null) {
            settled();
        } else {
            s.completion().whenComplete((stats, e) -> settled());
        }
    }

    /** Ends QEMU and the serve, if they still run, and frees the VM's folder. Idempotent. */
    private void release() {
        synchronized (this) {
            if (released) {
                return;
            }
            released = true;
        }
        console.end(status == VmStatus.EXITED ? "the guest exited with code " + exitCode
                : status == VmStatus.FAILED ? "the VM failed: " + reason : "the VM was stopped");
        PostcopyServe s = serve;
        if (s != null) {
            s.close(); // keeps its figures for thaw:stats
        }
        if (qemu != null) {
            qemu.close();
        }
        settled();
        onStopped.accept(this);
    }

    private void requireRunning(String what) {
        VmRefusals.requireRunning(what, id, status, exitCode, reason);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
