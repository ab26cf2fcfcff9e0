package dev.thaw.kvm.impl;

import dev.thaw.api.runtime.ExitListener;
import dev.thaw.api.runtime.IoHandler;
import dev.thaw.kvm.KvmException;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.support.runtime.VcpuThreadPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM's vCPU threads ({@link VcpuRunner}s) and the protocol that pauses, resumes and stops them.
 *
 * <p>Control: {@link #control} tells every runner what to do (RUN, PAUSE, STOP). It is written under the
 * {@link VmLifecycle} lock before the runners are kicked (see {@link VcpuRunner}); runners report parked
 * and ended under the lock, and its condition wakes whoever waits for them. {@link #pause()} returns when
 * every runner is parked (or ended); a parked runner has completed any pending I/O first.
 */
final class VcpuThreads {

    private static final Logger LOG = LoggerFactory.getLogger(VcpuThreads.class);

    /**
     * The signal that kicks vCPU threads out of KVM_RUN. SIGURG is ignored by default and HotSpot installs
     * no handler for it (it uses SEGV, BUS, FPE, ILL, PIPE, XFSZ, USR2, HUP, INT, TERM, QUIT); vCPU threads
     * block it except inside KVM_RUN, so it never reaches a handler anyway.
     */
    static final int KICK_SIGNAL = Libc.SIGURG;
    /** How long pause() waits for every vCPU to park; a vCPU stuck in the I/O handler is the usual reason. */
    static final Duration PAUSE_TIMEOUT = Duration.ofSeconds(10);
    /** How often pause() re-kicks vCPUs that have not parked yet (insurance against a lost wake-up). */
    static final long REKICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** How long stop() waits for the vCPU threads to end. */
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** How long start() waits for the threads to be ready (signal mask set, thread id known). */
    static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    enum Control { RUN, PAUSE, STOP }

    private final String vmName;
    private final VmLifecycle life;
    private final VcpuThreadPool<KickSignal.Blocked> pool;
    /** Guarded by the lifecycle lock. */
    private final List<VcpuRunner> runners = new ArrayList<>();
    private volatile Control control = Control.RUN;
    /** Runners that have not ended; guarded by the lifecycle lock. */
    private int live;

    VcpuThreads(String vmName, VmLifecycle life, VcpuThreadPool<KickSignal.Blocked> pool) {
        this.vmName = vmName;
        this.life = life;
        this.pool = pool;
    }

    String vmName() {
        return vmName;
    }

    Control control() {
        return control;
    }

    /**
     * Starts one runner per vCPU and returns once every one is ready to be paused. {@code vcpus} is the
     * VM's list, read under the lock (vCPUs can be added until the VM starts).
     */
    void start(List<KvmVcpu> vcpus, IoHandler io, ExitListener listener) {
        CountDownLatch ready;
        life.lock.lock();
        try {
            if (life.state != RunState.CREATED) {
                throw new IllegalStateException("VM " + vmName + " can be started once; it is " + life.state);
            }
            if (vcpus.isEmpty()) {
                throw new IllegalStateException("VM " + vmName + " has no vCPUs");
            }
            ready = new CountDownLatch(vcpus.size());
            for (KvmVcpu v : vcpus) {
                runners.add(new VcpuRunner(this, v, io, ready));
            }
            life.listener = listener;
            control = Control.RUN;
            life.state = RunState.RUNNING;
            live = runners.size();
            for (VcpuRunner r : runners) {
                pool.run(r.threadName(), r::run);
            }
        } finally {
            life.lock.unlock();
        }
        try {
            if (!ready.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new KvmException("VM " + vmName + ": vCPU threads not ready within " + START_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvmException("VM " + vmName + ": interrupted while starting", e);
        }
    }

    void pause() {
        life.lock.lock();
        try {
            if (life.state == RunState.PAUSED) {
                return;
            }
            if (life.state != RunState.RUNNING || control == Control.STOP) {
                throw new IllegalStateException("VM " + vmName + " cannot pause: it is "
                        + (control == Control.STOP && life.state == RunState.RUNNING ? "stopping" : life.state)
                        + life.exitSuffix());
            }
            control = Control.PAUSE;
            kickRunning();
            long deadline = System.nanoTime() + PAUSE_TIMEOUT.toNanos();
            while (!allParkedOrEnded()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new KvmException("VM " + vmName + ": vCPU(s) " + unparked() + " did not pause within "
                            + PAUSE_TIMEOUT + " (stuck in the I/O handler?)");
                }
                life.changed.awaitNanos(Math.min(left, REKICK_NANOS));
                kickRunning();
            }
            if (life.exit != null) {
                throw new KvmException("VM " + vmName + " ended while pausing: " + life.exit.reason());
            }
            life.state = RunState.PAUSED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvmException("VM " + vmName + ": interrupted while pausing", e);
        } finally {
            life.lock.unlock();
        }
    }

    void resume() {
        life.lock.lock();
        try {
            if (life.state == RunState.RUNNING && control == Control.RUN) {
                return;
            }
            if (life.state == RunState.PAUSED || (life.state == RunState.RUNNING && control == Control.PAUSE)) {
                control = Control.RUN;
                life.state = RunState.RUNNING;
                life.changed.signalAll();
                return;
            }
            throw new IllegalStateException("VM " + vmName + " cannot resume: it is " + life.state + life.exitSuffix());
        } finally {
            life.lock.unlock();
        }
    }

    /** Tells every runner to stop and waits (bounded) for them to end, except the calling thread's. */
    void stop() {
        life.lock.lock();
        try {
            if (life.state == RunState.CREATED) {
                life.state = RunState.STOPPED;
                return;
            }
            if (life.state == RunState.STOPPED || life.state == RunState.CLOSED) {
                // Stopped already, perhaps from a vCPU's own thread that is still unwinding: wait for
                // it too, so a close() after this never frees what a runner still uses.
                awaitEnded();
                return;
            }
            life.recordExit(new VmExit(VmExit.Kind.STOPPED, -1, "stopped by the host", "", null));
            if (life.state == RunState.PAUSED) {
                life.state = RunState.RUNNING;
            }
            control = Control.STOP;
            life.changed.signalAll();
            kickRunning();
            awaitEnded();
        } finally {
            life.lock.unlock();
        }
    }

    /** A runner parks; returns true to run on, false to end (STOP). */
    boolean park(VcpuRunner runner) {
        life.lock.lock();
        try {
            runner.parked = true;
            life.changed.signalAll();
            while (control == Control.PAUSE) {
                life.changed.awaitUninterruptibly();
            }
            runner.parked = false;
            return control == Control.RUN;
        } finally {
            life.lock.unlock();
        }
    }

    /** A vCPU hit an exit that ends the VM: the first such exit is the VM's; everyone else stops. */
    void fail(VmExit failure) {
        boolean first;
        life.lock.lock();
        try {
            first = life.recordExit(failure);
            control = Control.STOP;
            life.changed.signalAll();
            kickRunning();
        } finally {
            life.lock.unlock();
        }
        life.logFailure(failure, first);
    }

    /** A runner left its loop; the last one reports the VM's exit to the listener. */
    /** The index of the vCPU whose thread has Linux thread id {@code tid} now, or -1. */
    int vcpuOfThread(int tid) {
        life.lock.lock(); // runners are added under it
        try {
            for (VcpuRunner r : runners) {
                if (r.tid() == tid && tid != 0) {
                    return r.index();
                }
            }
            return -1;
        } finally {
            life.lock.unlock();
        }
    }

    void runnerEnded(VcpuRunner runner) {
        Runnable report = null;
        life.lock.lock();
        try {
            runner.ended = true;
            runner.parked = false;
            live--;
            if (live == 0) {
                report = life.lastRunnerEnded();
            }
            life.changed.signalAll();
        } finally {
            life.lock.unlock();
        }
        if (report != null) {
            report.run();
        }
    }

    /** A runner has returned its thread to the pool: whoever waits in stop() may go on. */
    void runnerDone(VcpuRunner runner) {
        life.lock.lock();
        try {
            runner.done = true;
            life.changed.signalAll();
        } finally {
            life.lock.unlock();
        }
    }

    /** Throws if the calling thread is a vCPU thread still inside its run loop. Caller holds the lock. */
    void refuseCallFromRunLoop(String what) {
        for (VcpuRunner r : runners) {
            if (r.thread() == Thread.currentThread() && !r.ended) {
                throw new IllegalStateException("VM " + vmName + ": " + what + " from vCPU thread "
                        + r.thread().getName() + " inside its run loop; call stop() there and " + what + " elsewhere");
            }
        }
    }

    /**
     * Names of the vCPU threads (other than the calling one) whose runners are not done (ended, their
     * exit reported). Caller holds the lock.
     */
    List<String> stillRunning() {
        List<String> names = new ArrayList<>();
        for (VcpuRunner r : runners) {
            if (!r.done && r.thread() != Thread.currentThread()) {
                names.add(r.threadName());
            }
        }
        return names;
    }

    /** Kicks every runner that is neither parked nor ended. Caller holds the lock. */
    private void kickRunning() {
        int pid = Libc.getpid();
        for (VcpuRunner r : runners) {
            if (!r.parked && !r.ended && r.tid() != 0) {
                try {
                    Libc.tgkill(pid, r.tid(), KICK_SIGNAL);
                } catch (ErrnoException e) {
                    if (e.errno() != Errno.ESRCH) {
                        throw new KvmException("VM " + vmName + ": could not kick " + r.threadName(), e);
                    }
                }
            }
        }
    }

    private boolean allParkedOrEnded() {
        for (VcpuRunner r : runners) {
            if (!r.parked && !r.ended) {
                return false;
            }
        }
        return true;
    }

    private List<Integer> unparked() {
        return runners.stream().filter(r -> !r.parked && !r.ended).map(VcpuRunner::index).toList();
    }

    /**
     * Waits (bounded, releasing the lock) until every runner but the calling thread's is done, as a join
     * of its thread would; the threads go back to the pool. Caller holds the lock.
     */
    private void awaitEnded() {
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        boolean interrupted = false;
        while (!stillRunning().isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                LOG.error("VM {}: {} did not end within {}", vmName, stillRunning(), STOP_TIMEOUT);
                break;
            }
            try {
                life.changed.awaitNanos(left);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
