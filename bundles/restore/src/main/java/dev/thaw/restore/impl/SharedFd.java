package dev.thaw.restore.impl;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A file descriptor that several engine threads use: closed exactly once, and never used after. A use
 * is a lease ({@link #acquire()} ... {@link #release()}); {@link #close()} is idempotent, refuses new
 * leases at once, and the close(2) itself happens when the last lease in progress ends. So no thread
 * can reach a file that reuses the number (a plain int closed under a running poll or write could).
 */
final class SharedFd {

    /** How often {@link #awaitSoleLease} looks: leases last one call, or one copy and its touch (about a millisecond). */
    private static final long SOLE_LEASE_POLL_NANOS = 50_000;

    /** Leases in progress times two, plus one once closed. */
    private final AtomicInteger state = new AtomicInteger();
    private final String what;
    private final int fd;
    private final Runnable closer;

    /** @param closer closes {@code fd}, called once */
    SharedFd(String what, int fd, Runnable closer) {
        this.what = what;
        this.fd = fd;
        this.closer = closer;
    }

    /** The fd, open until the matching {@link #release()}; throws once closed. */
    int acquire() {
        int fd = tryAcquire();
        if (fd < 0) {
            throw new IllegalStateException("the restore's " + what + " is closed");
        }
        return fd;
    }

    /** The fd, open until the matching {@link #release()}; -1 (and no lease) once closed. */
    int tryAcquire() {
        while (true) {
            int s = state.get();
            if ((s & 1) != 0) {
                return -1;
            }
            if (state.compareAndSet(s, s + 2)) {
                return fd;
            }
        }
    }

    void release() {
        if (state.addAndGet(-2) == 1) {
            closer.run(); // closed while this lease ran: the last lease closes
        }
    }

    /**
     * Waits, up to {@code millis}, until the caller's lease is the only one in progress; call it closed, so
     * that no other lease can begin. False if others still run after that.
     */
    boolean awaitSoleLease(long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (state.get() > 3) { // more than one lease (two per lease, plus one for closed)
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(SOLE_LEASE_POLL_NANOS);
        }
        return true;
    }

    /** Refuses new leases; closes the fd now, or when the last lease in progress ends. */
    void close() {
        while (true) {
            int s = state.get();
            if ((s & 1) != 0) {
                return;
            }
            if (state.compareAndSet(s, s | 1)) {
                if (s == 0) {
                    closer.run();
                }
                return;
            }
        }
    }
}
