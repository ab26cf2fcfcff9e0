package dev.thaw.restore.impl;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job of a restore (fault service, policy start, a loader) on a pooled thread: starting a platform
 * thread costs 0.1 to 1 ms here, too much for the resume path. The thread carries the job's name while
 * it runs, and the job can be awaited.
 */
final class Task {

    private static final Logger LOG = LoggerFactory.getLogger(Task.class);

    private final String name;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile Thread thread;

    private Task(String name) {
        this.name = name;
    }

    static Task start(Executor executor, String name, Runnable body) {
        Task task = new Task(name);
        executor.execute(() -> {
            Thread current = Thread.currentThread();
            String idleName = current.getName();
            task.thread = current;
            current.setName(name);
            try {
                body.run();
            } finally {
                current.setName(idleName);
                task.thread = null;
                task.done.countDown();
            }
        });
        return task;
    }

    /** Whether the caller is this task (which must not wait for itself). */
    boolean isCurrent() {
        return thread == Thread.currentThread();
    }

    /** Waits up to {@code millis} for the task to end; logs when it does not. */
    void await(long millis) {
        if (isCurrent()) {
            return;
        }
        try {
            if (!done.await(millis, TimeUnit.MILLISECONDS)) {
                LOG.error("restore task {} did not end within {} ms", name, millis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
