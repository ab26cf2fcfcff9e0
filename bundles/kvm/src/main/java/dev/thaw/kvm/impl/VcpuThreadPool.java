package dev.thaw.kvm.impl;

import dev.thaw.linux.Libc;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Platform threads for vCPUs, started before they are needed. Creating and starting a thread, and
 * blocking the kick signal in it, cost ~0.4 ms per vCPU here, on the path from the start request to
 * running vCPUs; a waiting thread takes a runner in ~0.05 ms. Each thread runs one {@link VcpuRunner}
 * at a time under the name {@code vcpu-<vm>-<index>}, and when the runner ends it drains any kick left
 * pending and waits for the next one (up to {@link #MAX_IDLE} wait; the rest end). After each handout
 * a keeper thread starts replacements in the background until {@link #READY} wait again.
 *
 * <p>Kick signal: every pool thread blocks {@link VcpuThreads#KICK_SIGNAL} once, at its start, and
 * knows its mask and kernel thread id; a runner only gives KVM its KVM_RUN mask (see {@link VcpuRunner}).
 */
final class VcpuThreadPool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(VcpuThreadPool.class);

    /** Threads kept waiting for the next VM: one per vCPU of a typical VM. */
    static final int READY = 4;
    /** Threads kept when VMs end; more end with their runner. */
    static final int MAX_IDLE = 64;
    static final long KICK_BIT = Libc.sigbit(VcpuThreads.KICK_SIGNAL);
    /** Waiting threads are named {@code thaw-vcpu-pool-<n>}; only a running vCPU's is {@code vcpu-...}. */
    static final String NAME = "thaw-vcpu-pool";

    private final Object lock = new Object();
    /** Waiting threads, most recently used first. Guarded by {@link #lock}. */
    private final Deque<Carrier> idle = new ArrayDeque<>();
    private final AtomicInteger numbers = new AtomicInteger();
    private final Thread keeper;
    private boolean closed;

    VcpuThreadPool() {
        keeper = Thread.ofPlatform().name(NAME + "-keeper").daemon(true).unstarted(this::keep);
        keeper.start();
    }

    /** Runs {@code runner} on a waiting thread, or on a new one if none waits. */
    void run(VcpuRunner runner) {
        Carrier carrier;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the vCPU thread pool is closed");
            }
            carrier = idle.pollFirst();
            lock.notifyAll(); // the keeper tops up
        }
        if (carrier == null) {
            carrier = startCarrier();
        }
        carrier.hand(runner);
    }

    /** Ends the waiting threads and the keeper; threads running a vCPU end when their runner does. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            for (Carrier c : idle) {
                c.hand(null);
            }
            idle.clear();
            lock.notifyAll();
        }
    }

    /** Keeps {@link #READY} threads waiting. */
    private void keep() {
        while (true) {
            synchronized (lock) {
                while (!closed && idle.size() >= READY) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
            }
            Carrier c = startCarrier();
            if (!c.awaitReady() || !returned(c)) {
                c.hand(null);
            }
        }
    }

    private Carrier startCarrier() {
        Carrier c = new Carrier(this, NAME + "-" + numbers.incrementAndGet());
        c.thread.start();
        return c;
    }

    /** A carrier is free again; returns false when it should end instead. */
    boolean returned(Carrier carrier) {
        synchronized (lock) {
            if (closed || idle.size() >= MAX_IDLE) {
                return false;
            }
            idle.addFirst(carrier);
            return true;
        }
    }

    /** One pool thread: blocks the kick signal once, then runs the runners handed to it. */
    static final class Carrier implements Runnable {

        private final VcpuThreadPool pool;
        private final String idleName;
        final Thread thread;
        /** The thread's signal mask before it blocked the kick signal; valid once ready. */
        volatile long mask;
        /** Kernel thread id, for tgkill; 0 until ready. */
        volatile int tid;
        /** The next runner; {@link #END} to end. Handed over with LockSupport. */
        private volatile Object next;
        private static final Object END = new Object();

        Carrier(VcpuThreadPool pool, String idleName) {
            this.pool = pool;
            this.idleName = idleName;
            this.thread = Thread.ofPlatform().name(idleName).daemon(true).unstarted(this);
        }

        /** Gives the thread {@code runner}, or null to end it. */
        void hand(VcpuRunner runner) {
            next = runner == null ? END : runner;
            LockSupport.unpark(thread);
        }

        /**
         * Called by the runner on this thread once its vCPU has ended, before it reports itself done:
         * takes a kick left pending, clears the interrupt status and the vCPU's name.
         */
        void release() {
            VcpuRunner.drainKicks();
            Thread.interrupted();
            thread.setName(idleName);
        }

        /** Waits until the thread has blocked the kick signal; false if it ended instead. */
        boolean awaitReady() {
            while (tid == 0 && thread.isAlive()) {
                Thread.onSpinWait();
                LockSupport.parkNanos(10_000);
            }
            return tid != 0;
        }

        @Override
        public void run() {
            try {
                mask = Libc.pthreadSigmask(Libc.SIG_BLOCK, KICK_BIT);
                tid = Libc.gettid();
            } catch (RuntimeException | Error e) {
                LOG.error("a vCPU pool thread could not block the kick signal", e);
                return;
            }
            while (true) {
                Object task;
                while ((task = next) == null) {
                    LockSupport.park(this);
                }
                next = null;
                if (task == END) {
                    return;
                }
                VcpuRunner runner = (VcpuRunner) task;
                thread.setName(runner.threadName());
                runner.run(this);
                if (!pool.returned(this)) {
                    return;
                }
            }
        }
    }
}
