package dev.thaw.restore.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.TransparentHugePages;
import dev.thaw.testing.Await;
import dev.thaw.testing.RequiresUserfaultfd;
import dev.thaw.testing.Smaps;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Background loaders that load whole huge pages ({@link HugeRanges}): which ranges, what they cost, and faults beside them. */
@RequiresUserfaultfd
@Timeout(120)
class HugeRangesTest {

    static final long HUGE = 2L << 20;
    static final int RANGE_PAGES = (int) (HUGE / Fixture.PAGE);

    @TempDir
    Path dir;

    @BeforeEach
    void hugePagesForMadvise() {
        assumeTrue(TransparentHugePages.anonymousSize() == HUGE, "this host gives anonymous memory no 2 MiB huge pages");
    }

    @Test
    void rangesTheSnapshotHoldsHalfOfLoadWholeAsHugePagesAndTheOthersPageByPage() throws Exception {
        // Region 0 about 30% holes: each of its ranges is held at least half. Region 1 about 90%: none is. One
        // loader and no fault: nobody claims a page of a range before the loader gets to it.
        try (Fixture f = new Fixture(dir, 71, new int[] {3, 9}, HUGE, 8L << 20, 4L << 20)) {
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    RestoreTeardownTest.BACKGROUND, x -> {}).withLoaderThreads(1), true);
            RestoreStats s;
            try {
                restore.resumed();
                s = restore.completion().get(60, TimeUnit.SECONDS);
                assertEquals(RestoreStats.Phase.COMPLETE, s.phase());
            } finally {
                restore.close();
            }
            long held = 0;
            int whole = 0;
            for (long range = 0; range < f.pages; range += RANGE_PAGES) {
                long rangeHeld = 0;
                for (long p = range; p < range + RANGE_PAGES; p++) {
                    rangeHeld += f.isZero(p) ? 0 : 1;
                }
                held += rangeHeld;
                boolean loadedWhole = rangeHeld * 2 >= RANGE_PAGES;
                assertEquals(range < (8L << 20) / Fixture.PAGE, loadedWhole, "the fixture's ranges: " + range);
                whole += loadedWhole ? 1 : 0;
                for (long p = range; p < range + RANGE_PAGES; p++) {
                    int copies = restore.copies.get((int) p);
                    int touches = restore.touches.get((int) p);
                    if (loadedWhole) {
                        assertEquals(1, copies, "page " + p + " of a range loaded whole: copies");
                        assertEquals(1, touches, "page " + p + " of a range loaded whole: touches");
                    } else if (f.isZero(p)) {
                        assertEquals(0, copies + touches, "hole " + p + " of a range loaded page by page: copies and touches");
                        assertFalse(f.resident(p), "hole " + p + " of a range loaded page by page is not mapped");
                    } else {
                        assertEquals(1, copies, "page " + p + " copies");
                    }
                }
            }
            assertEquals(4, whole);
            assertEquals(4L * HUGE / 1024, anonHugeKiB(f.guest.get(0)), "region 0 is in huge pages");
            assertEquals(0, anonHugeKiB(f.guest.get(1)), "region 1 is in 4 KiB pages");
            assertEquals(held, s.pagesBackground(), "background pages count the snapshot's pages only: " + s);
            assertEquals(held * Fixture.PAGE, s.bytesRead(), "bytes read: " + s);
            f.assertAllPagesEqual();
        }
    }

    /** Loaders and faults race for pages of the same ranges: whole claims that fail part way, holes given back. */
    @ParameterizedTest
    @ValueSource(longs = {72, 73, 74, 75})
    void vcpusFaultingWhileRangesLoadWholeGetEachPageOnceAndTheSnapshotsData(long seed) throws Exception {
        try (Fixture f = new Fixture(dir, seed, new int[] {3}, HUGE, 32L << 20)) {
            List<Long> order = new ArrayList<>();
            for (long p = 0; p < f.pages; p += 7) {
                order.add(p);
            }
            Collections.shuffle(order, new Random(seed));
            CountDownLatch go = new CountDownLatch(1);
            List<Fixture.Toucher> vcpus = List.of(
                    new Fixture.Toucher(f, dir.resolve("t0"), order.subList(0, order.size() / 2), go),
                    new Fixture.Toucher(f, dir.resolve("t1"), order.subList(order.size() / 2, order.size()), go));
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    RestoreTeardownTest.BACKGROUND, x -> {}).withLoaderThreads(3), true);
            try {
                // The vCPUs first, served by the fault service alone; the loaders start with resumed(), among their faults.
                go.countDown();
                Await.until("a first fault served", Duration.ofSeconds(10), () -> restore.stats().faults() > 0);
                restore.resumed();
                RestoreStats s = restore.completion().get(60, TimeUnit.SECONDS);
                assertEquals(RestoreStats.Phase.COMPLETE, s.phase());
                for (Fixture.Toucher v : vcpus) {
                    v.done.get(30, TimeUnit.SECONDS);
                }
                assertTrue(s.faults() > 0, s.toString());
                for (long p = 0; p < f.pages; p++) {
                    int copies = restore.copies.get((int) p);
                    if (f.isZero(p)) {
                        assertTrue(copies <= 1, "hole " + p + " mapped " + copies + " times");
                    } else {
                        assertEquals(1, copies, "page " + p + " put in " + copies + " times");
                    }
                }
            } finally {
                restore.close();
            }
            f.assertAllPagesEqual();
        }
    }

    /**
     * A fault loads the whole huge page around it where the policy asks for more than the page, however little of
     * the range: all of it, or 16 pages. Where it asks for nothing, the page loads alone. The policy loads nothing
     * in the background, so every page in comes from the fault.
     */
    @ParameterizedTest
    @ValueSource(ints = {RANGE_PAGES, 16, 0})
    void aFaultLoadsTheWholeHugePageAroundItWhereThePolicyAsksForAnything(int asked) throws Exception {
        try (Fixture f = new Fixture(dir, 76, new int[] {3}, HUGE, 8L << 20)) {
            long range = 2L * RANGE_PAGES;
            long faulted = range + 100;
            while (f.isZero(faulted)) {
                faulted++;
            }
            PolicySession session = new PolicySession() {
                @Override
                public List<PageRange> onFault(long page, int vcpu) {
                    return asked == 0 ? List.of() : List.of(new PageRange(page - page % asked, asked));
                }

                @Override
                public boolean backgroundLoading() {
                    return false;
                }
            };
            PagePolicy wide = LazyRestoreTest.policy("asks-" + asked, session);
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), wide, x -> {}), true);
            try {
                restore.resumed(); // the policy's session opens once the vCPUs run
                Await.until("the policy's session open", Duration.ofSeconds(10), restore::policyOpen);
                new Fixture.Toucher(f, dir.resolve("t"), List.of(faulted)).done.get(10, TimeUnit.SECONDS);
                // The fault's page is woken first; the rest of what it loads is counted right after.
                Await.until("the fault served", Duration.ofSeconds(10), () -> restore.stats().faults() > 0);
                for (long p = 0; p < f.pages; p++) {
                    boolean in = asked == 0 ? p == faulted : p >= range && p < range + RANGE_PAGES;
                    assertEquals(in ? 1 : 0, restore.copies.get((int) p), "page " + p
                            + " copies, " + asked + " asked: " + restore.stats());
                }
                assertEquals(asked == 0 ? 0 : HUGE / 1024, anonHugeKiB(f.guest.get(0)));
                RestoreStats s = restore.stats();
                assertEquals(1, s.pagesFault(), s.toString());
            } finally {
                restore.close();
            }
        }
    }

    /**
     * What a fault's policy asks for in the next huge page (a window reaching 16 pages into it) loads that page
     * whole too, not 16 pages of it: pages put in one by one would leave the rest of it to be loaded page by page.
     */
    @Test
    void aFaultsPrefetchIntoTheNextHugePageLoadsThatPageWhole() throws Exception {
        try (Fixture f = new Fixture(dir, 77, new int[] {3}, HUGE, 8L << 20)) {
            long range = RANGE_PAGES;
            long faulted = range + 100;
            while (f.isZero(faulted)) {
                faulted++;
            }
            long windowEnd = range + RANGE_PAGES + 16;
            PolicySession session = new PolicySession() {
                @Override
                public List<PageRange> onFault(long page, int vcpu) {
                    return List.of(new PageRange(page, windowEnd - page));
                }

                @Override
                public boolean backgroundLoading() {
                    return false;
                }
            };
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    LazyRestoreTest.policy("window", session), x -> {}), true);
            try {
                restore.resumed();
                Await.until("the policy's session open", Duration.ofSeconds(10), restore::policyOpen);
                new Fixture.Toucher(f, dir.resolve("t"), List.of(faulted)).done.get(10, TimeUnit.SECONDS);
                long last = range + 2L * RANGE_PAGES - 1;
                Await.until("the prefetch done", Duration.ofSeconds(10), () -> restore.copies.get((int) last) > 0);
                for (long p = 0; p < f.pages; p++) {
                    boolean in = p >= range && p < range + 2L * RANGE_PAGES;
                    assertEquals(in ? 1 : 0, restore.copies.get((int) p), "page " + p + " copies: " + restore.stats());
                }
                assertEquals(2 * HUGE / 1024, anonHugeKiB(f.guest.get(0)));
            } finally {
                restore.close();
            }
        }
    }

    /**
     * A policy that asks the background loaders for 16 pages of a huge page gets that page whole: loaded as 16 pages,
     * the rest of it would follow page by page, in 4 KiB pages.
     */
    @Test
    void aFewPagesThePolicyAsksForInTheBackgroundLoadTheirHugePageWhole() throws Exception {
        try (Fixture f = new Fixture(dir, 78, new int[] {3}, HUGE, 8L << 20)) {
            AtomicBoolean asked = new AtomicBoolean();
            PolicySession session = new PolicySession() {
                @Override
                public List<PageRange> next() {
                    return asked.getAndSet(true) ? List.of() : List.of(new PageRange(RANGE_PAGES + 5, 16));
                }
            };
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    LazyRestoreTest.policy("sixteen", session), x -> {}).withLoaderThreads(1), true);
            try {
                restore.resumed();
                assertEquals(RestoreStats.Phase.COMPLETE, restore.completion().get(60, TimeUnit.SECONDS).phase());
                assertTrue(asked.get());
                assertEquals(4 * HUGE / 1024, anonHugeKiB(f.guest.get(0)), "every range of the region in huge pages");
            } finally {
                restore.close();
            }
            f.assertAllPagesEqual();
        }
    }

    static long anonHugeKiB(Mapping m) throws IOException {
        return Smaps.anonHugeKiB(m.address(), m.size());
    }
}
