package dev.thaw.support.runtime;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Platform threads for vCPUs, started before they are needed. Starting a thread costs 0.1 to 0.8 ms here
 * (more on a busy machine), once per vCPU on the path from a start or restore request to running vCPUs; a
 * waiting thread takes its vCPU in microseconds. Each thread runs one vCPU at a time under the name it is
 * handed with ({@code vcpu-<vm>-<index>}); when the vCPU is done it waits for the next one (up to
 * {@link #MAX_IDLE} wait; the rest end). After each handout a keeper thread starts replacements in the
 * background until {@link #READY} wait again.
 *
 * <p>What a runtime needs of its threads besides is its {@link ThreadSetUp}: once on each new thread before
 * it takes a vCPU (the KVM runtime blocks its kick signal there, and learns the thread's signal mask and
 * id), and on the thread after each vCPU (the KVM runtime takes a kick left pending). The keeper puts a new
 * thread among the waiting ones only once its set-up is done.
 *
 * @param <T> what the set-up learns on a thread, for the vCPUs run on it ({@link Carrier#local()})
 */
public final class VcpuThreadPool<T> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(VcpuThreadPool.class);

    /** Threads kept waiting for the next VM: one per vCPU of a typical VM. */
    public static final int READY = 4;
    /** Threads kept when VMs end; more end with their vCPU. */
    public static final int MAX_IDLE = 64;

    /** What a runtime does on each of its pool threads, on that thread. */
    public interface ThreadSetUp<T> {

        /**
         * Once, on a new pool thread before it takes a vCPU; the result is the thread's {@link Carrier#local()}.
         * If it throws, the failure is logged and the thread ends.
         */
        T start();

        /** On a pool thread each time a vCPU is done with it, before it waits for the next one. */
        default void release(T local) {}

        /** Nothing to set up. */
        static ThreadSetUp<Void> none() {
            return () -> null;
        }
    }

    private final String name;
    private final ThreadSetUp<T> setUp;
    private final Object lock = new Object();
    /** Waiting threads, most recently used first. Guarded by {@link #lock}. */
    private final Deque<Carrier<T>> idle = new ArrayDeque<>();
    private final AtomicInteger numbers = new AtomicInteger();
    private boolean closed;

    /**
     * Starts the keeper, which starts the first {@link #READY} threads.
     *
     * @param name waiting threads are named {@code <name>-<n>}, the keeper {@code <name>-keeper}; only a
     *        thread running a vCPU has the vCPU's name
     */
    public VcpuThreadPool(String name, ThreadSetUp<T> setUp) {
        this.name = name;
        this.setUp = setUp;
        Thread.ofPlatform().name(name + "-keeper").daemon(true).start(this::keep);
    }

    /**
     * Runs {@code body} on a waiting thread (or a new one if none waits) named {@code threadName}; the body
     * calls {@link Carrier#release()} when it is done with the thread, before it reports itself gone.
     */
    public void run(String threadName, Consumer<Carrier<T>> body) {
        Carrier<T> carrier;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the vCPU thread pool " + name + " is closed");
            }
            carrier = idle.pollFirst();
            lock.notifyAll(); // the keeper tops up
        }
        if (carrier == null) {
            carrier = startCarrier();
        }
        carrier.hand(new Task<>(threadName, body));
    }

    /** Ends the waiting threads and the keeper; threads running a vCPU end when it is done. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            for (Carrier<T> c : idle) {
                c.end();
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
            Carrier<T> c = startCarrier();
            if (!c.awaitReady() || !returned(c)) {
                c.end();
            }
        }
    }

    private Carrier<T> startCarrier() {
        Carrier<T> c = new Carrier<>(this, name + "-" + numbers.incrementAndGet());
        c.thread.start();
        return c;
    }

    /** A carrier is free again; false when it should end instead. */
    private boolean returned(Carrier<T> carrier) {
        synchronized (lock) {
            if (closed || idle.size() >= MAX_IDLE) {
                return false;
            }
            idle.addFirst(carrier);
            return true;
        }
    }

    private record Task<T>(String threadName, Consumer<Carrier<T>> body) {}

    /** One pool thread: runs its set-up once, then the vCPUs handed to it, one after another. */
    public static final class Carrier<T> {

        private final VcpuThreadPool<T> pool;
        private final String idleName;
        private final Thread thread;
        /** The task that ends the thread. */
        private final Task<T> end = new Task<>("", c -> { });
        /** The next task; {@link #end} to end. Handed over with LockSupport. */
        private volatile Task<T> next;
        /** What the set-up returned; valid once {@link #ready}. */
        private volatile T local;
        private volatile boolean ready;

        private Carrier(VcpuThreadPool<T> pool, String idleName) {
            this.pool = pool;
            this.idleName = idleName;
            this.thread = Thread.ofPlatform().name(idleName).daemon(true).unstarted(this::loop);
        }

        /** The pool thread, the one running the vCPU handed to it. */
        public Thread thread() {
            return thread;
        }

        /** What the runtime's {@link ThreadSetUp#start()} returned on this thread. */
        public T local() {
            return local;
        }

        /**
         * Called by the vCPU on this thread once it is done, before it reports itself gone: the runtime's
         * {@link ThreadSetUp#release}, then the interrupt status cleared and the idle name again.
         */
        public void release() {
            pool.setUp.release(local);
            Thread.interrupted();
            thread.setName(idleName);
        }

        private void hand(Task<T> task) {
            next = task;
            LockSupport.unpark(thread);
        }

        private void end() {
            hand(end);
        }

        /** Waits until the thread has run its set-up; false if it ended instead. */
        private boolean awaitReady() {
            while (!ready && thread.isAlive()) {
                Thread.onSpinWait();
                LockSupport.parkNanos(10_000);
            }
            return ready;
        }

        private void loop() {
            try {
                local = pool.setUp.start();
            } catch (RuntimeException | Error e) {
                LOG.error("a vCPU thread of pool {} could not be set up", pool.name, e);
                return;
            }
            ready = true;
            while (true) {
                Task<T> task;
                while ((task = next) == null) {
                    LockSupport.park(this);
                }
                next = null;
                if (task == end) {
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
