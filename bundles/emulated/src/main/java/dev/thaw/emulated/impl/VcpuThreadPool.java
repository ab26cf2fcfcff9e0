package dev.thaw.emulated.impl;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Platform threads for vCPUs, started before they are needed. Starting a thread costs 0.1 to 0.8 ms here
 * (more on a busy machine), once per vCPU on the path from a restore request to running vCPUs; a waiting
 * thread takes its vCPU in microseconds. Each thread runs one vCPU at a time under the name
 * {@code vcpu-<vm>-<index>}; when the vCPU is done it waits for the next one (up to {@link #MAX_IDLE}
 * wait; the rest end). After each handout a keeper thread starts replacements in the background until
 * {@link #READY} wait again. As the KVM runtime's pool, without its signal set-up.
 */
final class VcpuThreadPool implements AutoCloseable {

    /** Threads kept waiting for the next VM: one per vCPU of a typical VM. */
    static final int READY = 4;
    /** Threads kept when VMs end; more end with their vCPU. */
    static final int MAX_IDLE = 64;
    /** Waiting threads are named {@code thaw-emulated-pool-<n>}; only a running vCPU's is {@code vcpu-...}. */
    static final String NAME = "thaw-emulated-pool";

    private final Object lock = new Object();
    /** Waiting threads, most recently used first. Guarded by {@link #lock}. */
    private final Deque<Carrier> idle = new ArrayDeque<>();
    private final AtomicInteger numbers = new AtomicInteger();
    private boolean closed;

    VcpuThreadPool() {
        Thread.ofPlatform().name(NAME + "-keeper").daemon(true).start(this::keep);
    }

    /**
     * Runs {@code body} on a waiting thread (or a new one if none waits) named {@code threadName}; the body
     * calls {@link Carrier#release()} when it is done with the thread, before it reports itself gone.
     */
    void run(String threadName, Consumer<Carrier> body) {
        Carrier carrier;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the emulated runtime's thread pool is closed");
            }
            carrier = idle.pollFirst();
            lock.notifyAll(); // the keeper tops up
        }
        if (carrier == null) {
            carrier = startCarrier();
        }
        carrier.hand(new Task(threadName, body));
    }

    /** Ends the waiting threads and the keeper; threads running a vCPU end when it does. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            for (Carrier c : idle) {
                c.hand(Carrier.END);
            }
            idle.clear();
            lock.notifyAll();
        }
    }

    /** Keeps {@link #READY} threads waiting. */
    private void keep() {
        while (true) {
            Carrier c;
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
            c = startCarrier();
            if (!returned(c)) {
                c.hand(Carrier.END);
            }
        }
    }

    private Carrier startCarrier() {
        Carrier c = new Carrier(this, NAME + "-" + numbers.incrementAndGet());
        c.thread.start();
        return c;
    }

    /** A carrier is free again; false when it should end instead. */
    private boolean returned(Carrier carrier) {
        synchronized (lock) {
            if (closed || idle.size() >= MAX_IDLE) {
                return false;
            }
            idle.addFirst(carrier);
            return true;
        }
    }

    private record Task(String threadName, Consumer<Carrier> body) {}

    /** One pool thread: runs the vCPUs handed to it, one after another. */
    static final class Carrier implements Runnable {

        private static final Task END = new Task("", c -> { });

        private final VcpuThreadPool pool;
        private final String idleName;
        final Thread thread;
        /** The next task; {@link #END} to end. Handed over with LockSupport. */
        private volatile Task next;

        Carrier(VcpuThreadPool pool, String idleName) {
            this.pool = pool;
            this.idleName = idleName;
            this.thread = Thread.ofPlatform().name(idleName).daemon(true).unstarted(this);
        }

        void hand(Task task) {
            next = task;
            LockSupport.unpark(thread);
        }

        /** Called by the vCPU on this thread once it is done, before it reports itself gone: the idle name again. */
        void release() {
            Thread.interrupted();
            thread.setName(idleName);
        }

        @Override
        public void run() {
            while (true) {
                Task task;
                while ((task = next) == null) {
                    LockSupport.park(this);
                }
                next = null;
                if (task == END) {
                    return;
                }
                thread.setName(task.threadName());
                task.body().accept(this);
                if (!pool.returned(this)) {
                    return;
                }
            }
        }
    }
}
