package dev.thaw.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** A bounded wait for what a test cannot be told of: polls every millisecond, fails the test at the timeout. */
public final class Await {

    private Await() {}

    /** Returns once {@code condition} holds; fails with "timed out waiting for {@code what}" after {@code timeout}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(1);
        }
    }
}
