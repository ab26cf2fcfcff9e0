package dev.thaw.itests;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Bounded waits for a condition that no event announces (e.g. SCR settling); polls, never waits longer. */
final class Await {

    private static final long POLL_MS = 20;

    private Await() {
    }

    /** Polls {@code probe} until {@code done} holds or {@code timeout} passes; returns the last value either way. */
    static <T> T until(Duration timeout, Supplier<T> probe, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        T value = probe.get();
        while (!done.test(value) && System.nanoTime() < deadline) {
            Thread.sleep(POLL_MS);
            value = probe.get();
        }
        return value;
    }
}
