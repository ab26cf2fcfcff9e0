package dev.thaw.support.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Both runtimes' vCPU threads: named for their vCPU while they run it, set up once, reused, ended by close. */
class VcpuThreadPoolTest {

    private static final long SECONDS = 10;

    /** Counts set-ups and releases, per thread. */
    private static final class Recording implements VcpuThreadPool.ThreadSetUp<Thread> {
        final List<Thread> started = new CopyOnWriteArrayList<>();
        final List<Thread> released = new CopyOnWriteArrayList<>();

        @Override
        public Thread start() {
            started.add(Thread.currentThread());
            return Thread.currentThread();
        }

        @Override
        public void release(Thread local) {
            assertSame(Thread.currentThread(), local, "released on the thread it was set up on");
            released.add(local);
        }
    }

    /** Runs one vCPU body on the pool; returns its thread once the body has released it. */
    private static Thread runOne(VcpuThreadPool<Thread> pool, String name, List<String> namesSeen) throws InterruptedException {
        BlockingQueue<Thread> done = new ArrayBlockingQueue<>(1);
        pool.run(name, carrier -> {
            namesSeen.add(Thread.currentThread().getName());
            assertSame(Thread.currentThread(), carrier.thread());
            assertSame(Thread.currentThread(), carrier.local(), "the set-up's value for this thread");
            Thread.currentThread().interrupt(); // cleared by release
            carrier.release();
            done.add(Thread.currentThread());
        });
        Thread t = done.poll(SECONDS, TimeUnit.SECONDS);
        assertTrue(t != null, "the body ran");
        return t;
    }

    @Test
    void aThreadIsNamedForItsVcpuWhileItRunsItAndThenWaitsForTheNext() throws Exception {
        Recording setUp = new Recording();
        List<String> names = new CopyOnWriteArrayList<>();
        try (VcpuThreadPool<Thread> pool = new VcpuThreadPool<>("test-pool", setUp)) {
            Thread first = runOne(pool, "vcpu-a-0", names);
            assertEquals(List.of("vcpu-a-0"), names);
            assertTrue(first.getName().startsWith("test-pool-"), "idle again: " + first.getName());
            assertFalse(first.isInterrupted(), "release clears the interrupt status");
            assertTrue(first.isAlive(), "it waits for the next vCPU");
            assertEquals(1, setUp.released.size());
            assertTrue(setUp.started.contains(first), "set up before it took the vCPU");
        }
    }

    @Test
    void eachThreadIsSetUpOnceHoweverManyVcpusItRuns() throws Exception {
        Recording setUp = new Recording();
        List<String> names = new CopyOnWriteArrayList<>();
        try (VcpuThreadPool<Thread> pool = new VcpuThreadPool<>("test-pool", setUp)) {
            for (int i = 0; i < 20; i++) {
                runOne(pool, "vcpu-b-" + i, names);
            }
            assertEquals(20, setUp.released.size());
            List<Thread> started = List.copyOf(setUp.started); // the keeper may start more meanwhile
            assertEquals(started.size(), started.stream().distinct().count(), "no thread set up twice: " + started);
        }
    }

    @Test
    void closeEndsTheWaitingThreadsAndRefusesMoreVcpus() throws Exception {
        List<String> names = new CopyOnWriteArrayList<>();
        VcpuThreadPool<Void> pool = new VcpuThreadPool<>("test-closed-pool", VcpuThreadPool.ThreadSetUp.none());
        BlockingQueue<Thread> done = new ArrayBlockingQueue<>(1);
        pool.run("vcpu-d-0", carrier -> {
            carrier.release();
            done.add(carrier.thread());
        });
        Thread t = done.poll(SECONDS, TimeUnit.SECONDS);
        assertTrue(t.getName().startsWith("test-closed-pool-"), "idle again: " + t.getName());
        pool.close();
        t.join(TimeUnit.SECONDS.toMillis(SECONDS));
        assertFalse(t.isAlive(), "a waiting thread ends with the pool");
        assertThrows(IllegalStateException.class, () -> pool.run("vcpu-d-1", carrier -> names.add("ran")));
    }
}
