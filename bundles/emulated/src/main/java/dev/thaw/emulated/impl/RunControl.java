package dev.thaw.emulated.impl;

import dev.thaw.api.runtime.ExitListener;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.VcpuRuntimeException;
import dev.thaw.api.runtime.VmExit;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an emulated VM is in its life, and the hand-offs between the host and its vCPU threads: a pause
 * parks every thread between two slices of instructions (so at an instruction boundary, with no port or
 * MMIO access half done: the interpreter makes those synchronously), a stop lets them leave. The first exit
 * that ends the VM is its exit; the last vCPU thread to leave makes the VM STOPPED and tells the listener,
 * once, outside the lock.
 */
final class RunControl {

    private static final Logger LOG = LoggerFactory.getLogger(RunControl.class);
    /** How long a pause or a stop waits for the vCPU threads. */
    static final Duration PARK_TIMEOUT = Duration.ofSeconds(10);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final String vmName;
    private RunState state = RunState.CREATED;
    private boolean pauseRequested;
    private boolean stopRequested;
    private int threads;
    private int parked;
    private VmExit exit;
    private ExitListener listener;

    RunControl(String vmName) {
        this.vmName = vmName;
    }

    RunState state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /** vCPU state may be read and written only while no vCPU thread runs guest code. */
    void requireStill(String what) {
        RunState s = state();
        if (s == RunState.RUNNING) {
            throw new IllegalStateException("VM " + vmName + " is running: pause it before " + what);
        }
        if (s == RunState.CLOSED) {
            throw new IllegalStateException("VM " + vmName + " is closed");
        }
    }

    /** Before the threads start: from now on {@code count} threads run, and {@code onExit} hears how it ended. */
    void starting(int count, ExitListener onExit) {
        lock.lock();
        try {
            if (state != RunState.CREATED) {
                throw new IllegalStateException("VM " + vmName + " was started already (it is " + state + ")");
            }
            threads = count;
            listener = onExit;
            state = RunState.RUNNING;
        } finally {
            lock.unlock();
        }
    }

    /** On a vCPU thread between slices: parks while a pause holds; false once the thread should leave. */
    boolean awaitTurn() {
        lock.lock();
        try {
            while (pauseRequested && !stopRequested) {
                parked++;
                changed.signalAll();
                changed.awaitUninterruptibly();
                parked--;
            }
            return !stopRequested;
        } finally {
            lock.unlock();
        }
    }

    /** Parks every vCPU thread ({@code kick} makes each look up from its slice or its HLT) and waits until all are. */
    void pause(Runnable kick) {
        lock.lock();
        try {
            if (state == RunState.PAUSED) {
                return;
            }
            if (state != RunState.RUNNING) {
                throw new IllegalStateException("cannot pause VM " + vmName + ": it is " + state.name().toLowerCase(java.util.Locale.ROOT));
            }
            pauseRequested = true;
        } finally {
            lock.unlock();
        }
        kick.run();
        lock.lock();
        try {
            long left = PARK_TIMEOUT.toNanos();
            while (parked < threads && !stopRequested) {
                if (left <= 0) {
                    pauseRequested = false;
                    changed.signalAll();
                    throw new VcpuRuntimeException("VM " + vmName + ": " + (threads - parked) + " vCPU(s) did not park within "
                            + PARK_TIMEOUT.toSeconds() + " s");
                }
                left = changed.awaitNanos(left);
            }
            if (stopRequested) {
                pauseRequested = false;
                throw new VcpuRuntimeException("cannot pause VM " + vmName + ": it ended meanwhile");
            }
            state = RunState.PAUSED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pauseRequested = false;
            changed.signalAll();
            throw new VcpuRuntimeException("interrupted while pausing VM " + vmName);
        } finally {
            lock.unlock();
        }
    }

    void resume() {
        lock.lock();
        try {
            if (state == RunState.PAUSED) {
                state = RunState.RUNNING;
            }
            pauseRequested = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Records why the VM ends (the first reason stands) and tells every thread to leave; returns whether it was the first. */
    boolean end(VmExit why) {
        lock.lock();
        try {
            boolean first = exit == null;
            if (first) {
                exit = why;
            } else if (why.kind() != VmExit.Kind.STOPPED) {
                LOG.debug("VM {}: after its end, also: {}", vmName, why.reason());
            }
            stopRequested = true;
            changed.signalAll();
            return first;
        } finally {
            lock.unlock();
        }
    }

    /** Waits (bounded) until every vCPU thread has left; false if some have not. */
    boolean awaitThreadsGone() {
        lock.lock();
        try {
            long left = PARK_TIMEOUT.toNanos();
            while (threads > 0 && left > 0) {
                left = changed.awaitNanos(left);
            }
            return threads == 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return threads == 0;
        } finally {
            lock.unlock();
        }
    }

    /** A vCPU thread has left; the last one makes the VM STOPPED and reports its exit. */
    void threadLeft() {
        VmExit report = null;
        ExitListener tell = null;
        lock.lock();
        try {
            threads--;
            if (threads == 0 && state != RunState.CLOSED) {
                state = RunState.STOPPED;
                if (exit == null) {
                    exit = new VmExit(VmExit.Kind.STOPPED, -1, "every vCPU thread ended", "", null);
                }
                report = exit;
                tell = listener;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (tell != null) {
            try {
                tell.vmExited(report);
            } catch (RuntimeException e) {
                LOG.error("VM {}: the exit listener failed", vmName, e);
            }
        }
    }

    /** After the threads left (or never started): nothing more may run. Returns whether it was open. */
    boolean close() {
        lock.lock();
        try {
            if (state == RunState.CLOSED) {
                return false;
            }
            state = RunState.CLOSED;
            stopRequested = true;
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    Optional<VmExit> exit() {
        lock.lock();
        try {
            return state == RunState.STOPPED || state == RunState.CLOSED ? Optional.ofNullable(exit) : Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    Optional<VmExit> awaitExit(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            long left = timeout.toNanos();
            while (state != RunState.STOPPED && state != RunState.CLOSED && left > 0) {
                left = changed.awaitNanos(left);
            }
            return state == RunState.STOPPED || state == RunState.CLOSED ? Optional.ofNullable(exit) : Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    boolean stopping() {
        lock.lock();
        try {
            return stopRequested;
        } finally {
            lock.unlock();
        }
    }
}
