package dev.thaw.kvm.impl;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.linux.Libc;
import dev.thaw.linux.kvm.KvmRun;
import dev.thaw.linux.kvm.VcpuFd;
import dev.thaw.support.runtime.VcpuThreadPool;
import java.util.concurrent.CountDownLatch;

/**
 * One vCPU's run loop, on a thread of the {@link VcpuThreadPool}: KVM_RUN in a loop, exits handed to its
 * {@link ExitDispatcher}, and the kick protocol that lets {@link VcpuThreads} pause and stop it.
 *
 * <p>Kicks: the pool thread blocks {@link VcpuThreads#KICK_SIGNAL} for itself ({@link KickSignal}) and the
 * runner gives KVM a signal mask without it (KVM_SET_SIGNAL_MASK), so the signal can only be taken inside
 * KVM_RUN, where it makes KVM_RUN return EINTR. Sent while the thread is outside KVM_RUN, it stays pending
 * and ends the next KVM_RUN at once, so a kick racing with entry is never lost. After an EINTR the pending
 * signal is consumed with sigtimedwait, and the loop reads the VM's control word (written before the kick)
 * to learn why.
 */
final class VcpuRunner {

    private static final long KICK_BIT = KickSignal.KICK_BIT;

    private final VcpuThreads threads;
    private final KvmVcpu vcpu;
    private final VcpuFd fd;
    private final KvmRun run;
    private final ExitDispatcher exits;
    private final CountDownLatch ready;
    private final String threadName;
    /** The pool thread running this runner; null until it starts. */
    private volatile Thread thread;

    /** Kernel thread id, for tgkill; 0 until the thread is ready. */
    private volatile int tid;
    /** Guarded by the VM's lock. */
    boolean parked;
    /** Guarded by the VM's lock. */
    boolean ended;
    /** The runner has returned, its exit reported; its thread is back in the pool. Guarded by the VM's lock. */
    boolean done;

    VcpuRunner(VcpuThreads threads, KvmVcpu vcpu, IoHandler io, CountDownLatch ready) {
        this.threads = threads;
        this.vcpu = vcpu;
        this.fd = vcpu.fd();
        this.run = fd.kvmRun();
        this.exits = new ExitDispatcher(threads, vcpu.index(), fd, io);
        this.ready = ready;
        this.threadName = "vcpu-" + threads.vmName() + "-" + vcpu.index();
    }

    /** The thread running this runner, null before it starts. */
    Thread thread() {
        return thread;
    }

    String threadName() {
        return threadName;
    }

    int tid() {
        return tid;
    }

    int index() {
        return vcpu.index();
    }

    /** Runs the loop on {@code carrier}'s thread (the calling one) until the vCPU stops. */
    void run(VcpuThreadPool.Carrier<KickSignal.Blocked> carrier) {
        thread = carrier.thread();
        try {
            try {
                fd.setSignalMask(carrier.local().mask() & ~KICK_BIT);
                tid = carrier.local().tid();
            } finally {
                ready.countDown();
            }
            loop();
        } catch (Throwable t) {
            exits.loopFailed(t);
        } finally {
            threads.runnerEnded(this);
            carrier.release();
            threads.runnerDone(this);
        }
    }

    private void loop() {
        while (true) {
            if (threads.control() != VcpuThreads.Control.RUN) {
                if (!completePendingExit() || !threads.park(this)) {
                    return;
                }
                drainKicks();
                continue;
            }
            if (!fd.run()) {
                // EINTR: a kick (or another signal); the control word says what to do.
                drainKicks();
                continue;
            }
            if (!exits.handle()) {
                return;
            }
        }
    }

    /**
     * Brings the vCPU to a consistent point before it parks: KVM completes an I/O or MMIO exit (stores
     * the data of an {@code in}, advances RIP) only on the next KVM_RUN. With immediate_exit set, that
     * KVM_RUN completes it and returns EINTR without entering the guest. String I/O longer than one data
     * page exits again instead; those exits are handled and the loop goes on until EINTR.
     *
     * @return false when an exit on the way ended the VM
     */
    private boolean completePendingExit() {
        run.setImmediateExit(true);
        try {
            while (fd.run()) {
                if (!exits.handle()) {
                    return false;
                }
            }
            return true;
        } finally {
            run.setImmediateExit(false);
        }
    }

    /** Takes a pending kick, if any, off the calling thread. */
    static void drainKicks() {
        while (Libc.sigtimedwait(KICK_BIT, 0) != 0) {
            // Standard signals do not queue: one pending kick at most, taken here.
        }
    }
}
