package dev.thaw.restore.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The lease rules the release of a restore's userfaultfd relies on (UffdCopier.release). */
@Timeout(30)
class SharedFdTest {

    @Test
    void theReleaseWaitsForALeaseInProgressAndNoNewLeaseBeginsMeanwhile() throws Exception {
        AtomicInteger closes = new AtomicInteger();
        SharedFd fd = new SharedFd("test", 42, closes::incrementAndGet);
        CountDownLatch leased = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        Thread toucher = Thread.ofPlatform().start(() -> {
            fd.acquire();
            leased.countDown();
            try {
                end.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            fd.release();
        });
        leased.await();

        assertEquals(42, fd.tryAcquire(), "the release's own lease");
        fd.close();
        assertEquals(-1, fd.tryAcquire(), "closed: no new lease");
        CompletableFuture<Boolean> sole = CompletableFuture.supplyAsync(() -> fd.awaitSoleLease(20_000));
        assertFalse(sole.isDone() && sole.join(), "the toucher's lease still runs");
        end.countDown();
        assertTrue(sole.get(20, TimeUnit.SECONDS), "alone once the toucher's lease ended");
        toucher.join();
        assertEquals(0, closes.get(), "the fd stays open while the release's lease runs");
        fd.release();
        assertEquals(1, closes.get(), "closed by the last lease, once");
    }

    @Test
    void aLeaseThatDoesNotEndIsWaitedForOnlyUntilTheTimeout() throws Exception {
        SharedFd fd = new SharedFd("test", 7, () -> {});
        fd.acquire(); // never released
        fd.acquire();
        fd.close();
        assertFalse(fd.awaitSoleLease(50));
        fd.release();
        assertTrue(fd.awaitSoleLease(50));
    }
}
