package dev.thaw.qemu.postcopy.impl;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A thread of its own for a policy's calls, so that the sending thread waits for each one with a deadline: a
 * policy that never returns holds this thread, never the stream. One call at a time; a call past its deadline
 * is interrupted and the thread given up to the policy ({@link #abandon}).
 */
final class PolicyCallThread {

    /** How long {@link #end} waits for the thread once its last call returned. */
    static final long END_MILLIS = 1_000;

    private volatile Thread thread; // set by the executor's factory, on the caller's thread, before the first call runs
    private final ExecutorService executor;

    PolicyCallThread(String name) {
        this.executor = Executors.newSingleThreadExecutor(r -> {
            thread = Thread.ofPlatform().name(name).daemon().unstarted(r);
            return thread;
        });
    }

    /**
     * {@code call}'s result, once it returned within {@code nanos}.
     *
     * @throws TimeoutException if it did not: it runs on, interrupted, on a thread now the policy's
     * @throws ExecutionException with what it threw
     * @throws InterruptedException if the caller was interrupted while waiting: the call is interrupted too
     */
    <T> T call(Callable<T> call, long nanos) throws TimeoutException, ExecutionException, InterruptedException {
        Future<T> f = executor.submit(call);
        try {
            return f.get(nanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException | InterruptedException e) {
            f.cancel(true);
            throw e;
        }
    }

    /** Gives the thread up: a call on it did not return, and none is made on it again. */
    void abandon() {
        executor.shutdownNow();
    }

    /** Ends the thread once its call returned: waits up to {@link #END_MILLIS}, so that nothing is left running. */
    void end() {
        executor.shutdown();
        Thread t = thread;
        if (t != null) {
            try {
                t.join(END_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
