package dev.thaw.kvm.impl;

import dev.thaw.kvm.IoHandler;
import dev.thaw.linux.Libc;
import dev.thaw.linux.kvm.KvmRun;
import dev.thaw.linux.kvm.VcpuFd;
import java.util.concurrent.CountDownLatch;

/**
 * One vCPU's thread: KVM_RUN in a loop, exits handed to its {@link ExitDispatcher}, and the kick
 * protocol that lets {@link VcpuThreads} pause and stop it.
 *
 * <p>Kicks: the thread blocks {@link VcpuThreads#KICK_SIGNAL} for itself and gives KVM a signal mask without
 * it (KVM_SET_SIGNAL_MASK), so the signal can only be taken inside KVM_RUN, where it makes KVM_RUN
 * return EINTR. Sent while the thread is outside KVM_RUN, it stays pending and ends the next KVM_RUN at
 * once, so a kick racing with entry is never lost. After an EINTR the pending signal is consumed with
 * sigtimedwait, and the loop reads the VM's control word (written before the kick) to learn why.
 */
final class VcpuRunner implements Runnable {

    private static final long KICK_BIT = Libc.sigbit(VcpuThreads.KICK_SIGNAL);

    private final VcpuThreads threads;
    private final KvmVcpu vcpu;
    private final VcpuFd fd;
    private final KvmRun run;
    private final ExitDispatcher exits;
    private final CountDownLatch ready;
    private final Thread thread;

    /** Kernel thread id, for tgkill; 0 until the thread is ready. */
    private volatile int tid;
    /** Guarded by the VM's lock. */
    boolean parked;
    /** Guarded by the VM's lock. */
    boolean ended;

    VcpuRunner(VcpuThreads threads, KvmVcpu vcpu, IoHandler io, CountDownLatch ready) {
        this.threads = threads;
        this.vcpu = vcpu;
        this.fd = vcpu.fd();
        this.run = fd.kvmRun();
        this.exits = new ExitDispatcher(threads, vcpu.index(), fd, io);
        this.ready = ready;
        this.thread = Thread.ofPlatform().name("vcpu-" + threads.vmName() + "-" + vcpu.index()).daemon(true).unstarted(this);
    }

    Thread thread() {
        return thread;
    }

    int tid() {
        return tid;
    }

    int index() {
        return vcpu.index();
    }

    @Override
    public void run() {
        try {
            try {
                long previous = Libc.pthreadSigmask(Libc.SIG_BLOCK, KICK_BIT);
                fd.setSignalMask(previous & ~KICK_BIT);
                tid = Libc.gettid();
            } finally {
                ready.countDown();
            }
            loop();
        } catch (Throwable t) {
            exits.loopFailed(t);
        } finally {
            threads.runnerEnded(this);
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

    private static void drainKicks() {
        while (Libc.sigtimedwait(KICK_BIT, 0) != 0) {
            // Standard signals do not queue: one pending kick at most, taken here.
        }
    }
}
