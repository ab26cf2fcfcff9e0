package dev.thaw.testing.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What every {@link PagePolicy} promises the restore engine. A policy's test extends this class and
 * provides the policy (and, to exercise more of it, restores with profiles or parameters). The engine
 * is simulated by {@link FakeRestore}: ranges a session returns are "loaded" into its bitmap.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class PagePolicyContract {

    /** A fresh instance of the policy under test, with its default configuration. */
    protected abstract PagePolicy policy();

    /**
     * A restore of {@code pageCount} pages to run the contract on; override to add a working set,
     * holes or parameters. The default has a hole in the middle of memory.
     */
    protected FakeRestore restore(long pageCount) {
        FakeRestore restore = FakeRestore.of(pageCount);
        if (pageCount >= 8) {
            restore.withHoles(new PageRange(pageCount / 2, pageCount / 4));
        }
        return restore;
    }

    /** Parameters that make a demand-only session ({@code backgroundLoading() == false}), if the policy has them. */
    protected Optional<Map<String, Object>> demandOnlyParameters() {
        return Optional.empty();
    }

    /** Memory sizes the contract runs on: one page, odd sizes, a few MiB. */
    protected static final long[] SIZES = {1, 2, 3, 17, 1000, 4099, 8192 + 5};

    @Test
    void nameIsNonEmptyAndStable() {
        PagePolicy policy = policy();
        String name = policy.name();
        assertNotNull(name);
        assertFalse(name.isBlank(), "name is blank");
        assertTrue(name.matches("[a-z0-9][a-z0-9-]*"), "name is not a short lower-case token: " + name);
        assertEquals(name, policy.name(), "name changed between calls");
        assertEquals(name, policy().name(), "name differs between instances");
        policy.start(restore(100)).close();
        assertEquals(name, policy.name(), "name changed after a restore");
    }

    @Test
    void descriptionIsOneLine() {
        String description = policy().description();
        assertNotNull(description);
        assertFalse(description.isBlank(), "description is blank");
        assertFalse(description.contains("\n") || description.contains("\r"), "description spans lines: " + description);
    }

    @Test
    void onFaultStaysInMemoryForEveryPageIncludingTheFirstAndLast() {
        for (long size : SIZES) {
            FakeRestore restore = restore(size);
            PolicySession session = policy().start(restore);
            long step = Math.max(1, size / 257);
            for (long page = 0; page < size; page += step) {
                assertInMemory(size, session.onFault(page, 0), "fault on page " + page + " of " + size);
            }
            assertInMemory(size, session.onFault(size - 1, 1), "fault on the last page of " + size);
            assertInMemory(size, session.onFault(0, 1), "fault on the first page of " + size);
            session.close();
        }
    }

    @Test
    void onFaultStaysInMemoryWhileTheGuestFaultsAtRandomAndPagesLoad() {
        long size = 4099;
        FakeRestore restore = restore(size);
        PolicySession session = policy().start(restore);
        Random random = new Random(42);
        for (int i = 0; i < 5000; i++) {
            long page = random.nextInt(10) < 7 ? random.nextLong(size) : (i % 2 == 0 ? 0 : size - 1);
            List<PageRange> ranges = session.onFault(page, random.nextInt(3));
            assertInMemory(size, ranges, "fault " + i + " on page " + page);
            restore.load(PageRange.of(page));
            restore.load(ranges);
        }
        session.close();
    }

    @Test
    void backgroundLoadingEndsAndTheSweepCoversAllPages() {
        for (long size : SIZES) {
            runEngine(size, false);
        }
    }

    @Test
    void backgroundLoadingEndsWhenFaultsInterleave() {
        for (long size : SIZES) {
            runEngine(size, true);
        }
    }

    @Test
    void nextIsEmptyWhenAllMemoryIsLoaded() {
        FakeRestore restore = restore(1000);
        restore.load(new PageRange(0, 1000));
        PolicySession session = policy().start(restore);
        int calls = 0;
        while (!session.next().isEmpty()) {
            assertTrue(++calls < 2016, "next() still returns ranges after " + calls + " calls with all memory loaded");
        }
        assertEquals(List.of(), session.next(), "next() after it returned empty, with all memory loaded");
        session.close();
    }

    @Test
    void sessionsAreSafeUnderConcurrentFaultsAndLoaders() throws InterruptedException {
        long size = 8192 + 5;
        FakeRestore restore = restore(size);
        PolicySession session = policy().start(restore);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong calls = new AtomicLong();
        int threads = 6;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            boolean faulter = t % 2 == 0;
            int vcpu = t / 2;
            Thread.ofPlatform().name("contract-" + (faulter ? "vcpu-" : "loader-") + t).start(() -> {
                Random random = new Random(vcpu * 31L + (faulter ? 1 : 2));
                try {
                    while (!stop.get()) {
                        List<PageRange> ranges = faulter ? session.onFault(random.nextLong(size), vcpu) : session.next();
                        assertInMemory(size, ranges, Thread.currentThread().getName());
                        restore.load(ranges);
                        calls.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    done.countDown();
                }
            });
        }
        Thread.sleep(300);
        stop.set(true);
        assertTrue(done.await(10, TimeUnit.SECONDS), "session calls did not return within 10 s of being asked to stop");
        session.close();
        if (!failures.isEmpty()) {
            Throwable first = failures.peek();
            fail(failures.size() + " thread(s) failed; the first: " + first, first);
        }
        assertTrue(calls.get() > 0, "no calls completed");
    }

    @Test
    void demandOnlySessionHasNoNextRanges() {
        Optional<Map<String, Object>> parameters = demandOnlyParameters();
        Assumptions.assumeTrue(parameters.isPresent(), "the policy has no demand-only parameters");
        FakeRestore restore = restore(1000);
        parameters.get().forEach(restore::with);
        PolicySession session = policy().start(restore);
        assertFalse(session.backgroundLoading(), "backgroundLoading() with " + parameters.get());
        for (int i = 0; i < 5; i++) {
            assertEquals(List.of(), session.next(), "next() of a demand-only session");
            session.onFault(i * 100L, 0);
        }
        session.close();
    }

    @Test
    void everyDemandOnlySessionHasNoNextRanges() {
        for (long size : SIZES) {
            PolicySession session = policy().start(restore(size));
            if (!session.backgroundLoading()) {
                assertEquals(List.of(), session.next(), "next() of a session without background loading");
            }
            session.close();
        }
    }

    @Test
    void closeIsIdempotent() {
        PolicySession fresh = policy().start(restore(100));
        fresh.close();
        fresh.close();
        PolicySession used = policy().start(restore(100));
        used.onFault(5, 0);
        used.next();
        used.close();
        used.close();
    }

    /** Simulates the engine: loaders take next() ranges until it is empty (bounded), then sweep. */
    private void runEngine(long size, boolean withFaults) {
        FakeRestore restore = restore(size);
        PolicySession session = policy().start(restore);
        Random random = new Random(size);
        long bound = 2 * size + 16;
        long calls = 0;
        boolean ended = !session.backgroundLoading();
        while (!ended && calls++ < bound) {
            if (withFaults && calls % 3 == 0) {
                long page = restore.nextUnloaded(random.nextLong(size));
                if (page < size) {
                    restore.load(PageRange.of(page));
                    List<PageRange> extra = session.onFault(page, 0);
                    assertInMemory(size, extra, "fault on page " + page);
                    restore.load(extra);
                }
            }
            List<PageRange> ranges = session.next();
            assertNotNull(ranges, "next() returned null");
            assertInMemory(size, ranges, "next() call " + calls + " on " + size + " pages");
            ended = ranges.isEmpty();
            restore.load(ranges);
        }
        assertTrue(ended, "next() never returned empty within " + bound + " calls on " + size + " pages");
        for (long page = restore.nextUnloaded(0); page < size; page = restore.nextUnloaded(page)) {
            restore.load(PageRange.of(page));
        }
        assertEquals(size, restore.loadedPages(), "pages loaded after the engine's sweep");
        assertEquals(0, restore.outOfRangeRanges(), "ranges out of memory");
        session.close();
    }

    /** Fails unless {@code ranges} is non-null and every range lies within [0, size). */
    protected static void assertInMemory(long size, List<PageRange> ranges, String what) {
        assertNotNull(ranges, what + ": null ranges");
        for (PageRange range : ranges) {
            assertNotNull(range, what + ": a null range");
            if (range.first() < 0 || range.end() > size || range.end() < range.first()) {
                fail(what + ": range " + range + " lies outside memory of " + size + " pages");
            }
        }
    }
}
