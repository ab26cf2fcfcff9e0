package dev.thaw.kvm.impl;

import dev.thaw.api.runtime.ExitListener;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.VmExit;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM's run state, how it ended, and the one lock that guards them and every other part of the VM
 * ({@link MemorySlots}, {@link InKernelDevices}, {@link VcpuThreads}); {@link #changed} wakes whoever
 * waits for a change.
 *
 * <p>Exits: the first exit that ends the VM is its exit, later ones are only logged; the last vCPU
 * thread to end makes the VM STOPPED and reports the exit, once, to the listener, outside the lock.
 */
final class VmLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(VmLifecycle.class);

    final ReentrantLock lock = new ReentrantLock();
    final Condition changed = lock.newCondition();
    private final String vmName;

    /** Guarded by {@link #lock}, as are the fields below. */
    RunState state = RunState.CREATED;
    /** Set when close() begins; nothing new may start from then on. */
    boolean closing;
    /** Why the VM ended (or is ending); null while it runs. */
    VmExit exit;
    ExitListener listener;

    VmLifecycle(String vmName) {
        this.vmName = vmName;
    }

    RunState runState() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    Optional<VmExit> exit() {
        lock.lock();
        try {
            return ended() ? Optional.ofNullable(exit) : Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    Optional<VmExit> awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!ended()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Optional.empty();
                }
                changed.awaitNanos(left);
            }
            return Optional.ofNullable(exit);
        } finally {
            lock.unlock();
        }
    }

    /** Throws unless the VM is open. Caller holds the lock. */
    void requireOpen(String what) {
        if (state == RunState.CLOSED || closing) {
            throw new IllegalStateException("VM " + vmName + " is closed: cannot " + what);
        }
    }

    /** Throws while the guest runs (its state is only readable and writable while it does not) or once closed. */
    void requireNotRunning(String what) {
        requireNotRunning(what, -1);
    }

    /**
     * As {@link #requireNotRunning(String)} for vCPU {@code vcpu} ("cannot {what} of vCPU {vcpu}"); the
     * message is built only on failure, since every vCPU state get and set passes here.
     */
    void requireNotRunning(String what, int vcpu) {
        lock.lock();
        try {
            if (state == RunState.RUNNING) {
                throw new IllegalStateException("VM " + vmName + ": cannot " + describe(what, vcpu)
                        + " while the VM runs; pause() it first");
            }
            if (state == RunState.CLOSED || closing) {
                requireOpen(describe(what, vcpu));
            }
        } finally {
            lock.unlock();
        }
    }

    /** " (reason)" once the VM has an exit, for error messages. Caller holds the lock. */
    String exitSuffix() {
        return exit == null ? "" : " (" + exit.reason() + ")";
    }

    /** Records {@code failure} unless the VM has an exit already; returns whether it was the first. Caller holds the lock. */
    boolean recordExit(VmExit failure) {
        if (exit != null) {
            return false;
        }
        exit = failure;
        return true;
    }

    /** Logs a fatal exit: the VM's own (with its register dump) loudly, later ones quietly. Outside the lock. */
    void logFailure(VmExit failure, boolean first) {
        if (first) {
            LOG.error("VM {} ended: {}\n{}", vmName, failure.reason(), failure.registerDump(), failure.cause());
        } else {
            LOG.debug("VM {}: after the VM ended: {}", vmName, failure.reason());
        }
    }

    /**
     * The last vCPU thread ended: the VM is STOPPED (unless already CLOSED) with its exit. Returns the
     * report to the listener, to run outside the lock. Caller holds the lock.
     */
    Runnable lastRunnerEnded() {
        if (exit == null) {
            exit = new VmExit(VmExit.Kind.STOPPED, -1, "every vCPU thread ended", "", null);
        }
        if (state != RunState.CLOSED) {
            state = RunState.STOPPED;
        }
        VmExit report = exit;
        ExitListener notify = listener;
        return () -> report(report, notify);
    }

    private void report(VmExit report, ExitListener notify) {
        if (report.kind() == VmExit.Kind.STOPPED) {
            LOG.info("VM {} stopped: {}", vmName, report.reason());
        }
        try {
            notify.vmExited(report);
        } catch (RuntimeException | Error e) {
            LOG.error("VM {}: exit listener failed", vmName, e);
        }
    }

    private static String describe(String what, int vcpu) {
        return vcpu < 0 ? what : what + " of vCPU " + vcpu;
    }

    private boolean ended() {
        return state == RunState.STOPPED || state == RunState.CLOSED;
    }
}
