package dev.thaw.emulated.irq;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;

/**
 * Parks one vCPU thread until a condition holds, a deadline passes or another thread asks it to stop
 * waiting. Lost wake-ups cannot happen: the waiter registers before it checks the condition, producers
 * change the condition's volatile state before they {@link #signal()}, and an unpark before a park
 * makes that park return at once.
 */
final class WakeSignal {

    private volatile Thread waiter;
    private final AtomicBoolean wakeRequested = new AtomicBoolean();

    /** Unparks the waiting thread, if any, so it re-checks its condition. */
    void signal() {
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    /** Makes the current wait, or the next one if none is in progress, return false. */
    void wakeUp() {
        wakeRequested.set(true);
        signal();
    }

    /**
     * Waits until {@code ready} holds (true), {@link #wakeUp()} or {@code timeoutNanos} pass on
     * {@code clock} (false). {@code ready} is asked with the current time first and after every unpark;
     * the thread never parks beyond {@code nextDeadline} (the time at which {@code ready} may change by
     * itself, such as a timer's expiry).
     */
    boolean await(LongSupplier clock, long timeoutNanos, LongPredicate ready, LongSupplier nextDeadline)
            throws InterruptedException {
        long start = clock.getAsLong();
        long end = start + Math.max(0, timeoutNanos);
        if (end < start) {
            end = Long.MAX_VALUE; // overflow: wait without a limit
        }
        waiter = Thread.currentThread();
        try {
            while (true) {
                long now = clock.getAsLong();
                if (ready.test(now)) {
                    return true;
                }
                if (wakeRequested.getAndSet(false) || now >= end) {
                    return false;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long until = Math.min(end, nextDeadline.getAsLong());
                long wait = until - now;
                LockSupport.parkNanos(this, wait > 0 ? wait : until > now ? Long.MAX_VALUE : 1);
            }
        } finally {
            waiter = null;
        }
    }
}
