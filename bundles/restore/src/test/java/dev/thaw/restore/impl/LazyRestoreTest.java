package dev.thaw.restore.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreFailure;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.testing.RequiresUserfaultfd;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The engine for real: userfaultfd on anonymous memory, snapshot files written by ThawSnapshotWriter. */
@RequiresUserfaultfd
@Timeout(120)
class LazyRestoreTest {

    @TempDir
    Path dir;

    /** A policy with background loading and a fixed answer to onFault. */
    static PagePolicy policy(String name, PolicySession session) {
        return new PagePolicy() {
            public String name() {
                return name;
            }

            public String description() {
                return name;
            }

            public PolicySession start(RestoreView restore) {
                return session;
            }
        };
    }

    static final PolicySession BACKGROUND = new PolicySession() {};

    /** Neighbours: 8 pages from the faulting one on, and a far range. */
    static final PolicySession NEIGHBOURS = new PolicySession() {
        @Override
        public List<PageRange> onFault(long page, int vcpu) {
            // The fixture below has 16384 pages; stay inside them (bad answers are another test's business).
            return List.of(new PageRange(page, Math.min(8, 16384 - page)), new PageRange((page * 7919) % 16380, 4));
        }
    };

    private static List<Long> randomPages(Random r, long pages, int n) {
        List<Long> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add((long) r.nextInt((int) pages));
        }
        return list;
    }

    @Test
    void everyPageIsCopiedInExactlyOnceWhileTwoThreadsFaultAndTwoLoadersRun() throws Exception {
        try (Fixture f = new Fixture(dir, 1, 48L << 20, 16L << 20)) {
            Random r = new Random(7);
            List<Long> shared = randomPages(r, f.pages, 400);
            List<Long> a = new ArrayList<>(shared);
            a.addAll(randomPages(r, f.pages, 400));
            List<Long> b = new ArrayList<>(shared);
            b.addAll(randomPages(r, f.pages, 400));
            java.util.Collections.shuffle(b, r);
            Map<Integer, Integer> vcpus = new ConcurrentHashMap<>();
            AtomicReference<RestoreFailure> failure = new AtomicReference<>();
            RestoreRequest request = RestoreRequest.of(f.reader, f.hostRegions(), policy("neighbours", NEIGHBOURS),
                    failure::set).withLoaderThreads(2).withVcpuOfThread(tid -> vcpus.getOrDefault(tid, -1));
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            Fixture.Toucher ta = new Fixture.Toucher(f, dir.resolve("a"), a, go);
            Fixture.Toucher tb = new Fixture.Toucher(f, dir.resolve("b"), b, go);
            vcpus.put(ta.tid(), 0);
            vcpus.put(tb.tid(), 1);
            LazyRestoreImpl restore = new LazyRestoreImpl(request, true);
            try {
                go.countDown();
                restore.resumed();
                ta.done.get(60, TimeUnit.SECONDS);
                tb.done.get(60, TimeUnit.SECONDS);
                RestoreStats s = restore.completion().get(60, TimeUnit.SECONDS);
                assertEquals(RestoreStats.Phase.COMPLETE, s.phase());
                for (long p = 0; p < f.pages; p++) {
                    int copies = restore.copies.get((int) p);
                    if (f.reader.isPresent(f.pages > p && p < (48L << 20) / 4096 ? 0 : 1,
                            p < (48L << 20) / 4096 ? p : p - (48L << 20) / 4096)) {
                        assertEquals(1, copies, "page " + p + " copied in " + copies + " times");
                    } else {
                        assertTrue(copies <= 1, "zero page " + p + " mapped " + copies + " times");
                    }
                }
                f.assertAllPagesEqual();
                assertEquals(null, failure.get());
                assertEquals(s.presentPages(), s.loadedPages());
                assertTrue(s.faults() > 0 && s.pagesBackground() > 0, s.toString());
                assertEquals(0, s.policyErrors());
                assertTrue(s.blocktime().containsKey(0) && s.blocktime().containsKey(1), s.blocktime().toString());
                System.out.println("exactly-once: " + s);
            } finally {
                restore.close();
            }
        }
    }

    @Test
    void noneLoadsOnlyTouchedPagesAndTheHandleIsReturnedBeforeAnyBackgroundLoad() throws Exception {
        try (Fixture f = new Fixture(dir, 2, 8L << 20)) {
            List<Long> touch = new ArrayList<>();
            for (long p = 0; p < f.pages; p += 17) {
                touch.add(p);
            }
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), new NonePolicy(),
                    x -> {}).withLoaderThreads(2), true);
            try {
                RestoreStats atResume = restore.stats();
                restore.resumed();
                assertEquals(0, atResume.loadedPages(), "start() returned before any page was loaded");
                new Fixture.Toucher(f, dir.resolve("t"), touch).done.get(60, TimeUnit.SECONDS);
                // The last fault is counted just after its wake: give the fault service a moment.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (restore.stats().faults() < touch.size() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                RestoreStats s = restore.stats();
                assertEquals(touch.size(), s.faults());
                assertEquals(touch.size(), s.pagesFault());
                assertEquals(0, s.pagesBackground());
                assertEquals(0, s.pagesPrefetch());
                assertEquals(RestoreStats.Phase.LOADING, s.phase());
                for (long p : touch) {
                    assertEquals(1, restore.copies.get((int) p));
                }
            } finally {
                restore.close();
            }
            for (long p : touch) {
                assertEquals(-1, f.guestPage(p).mismatch(f.expectedPage(p)), "page " + p);
            }
        }
    }

    @Test
    void resumeDoesNotWaitForMemory() throws Exception {
        try (Fixture f = new Fixture(dir, 3, 64L << 20)) {
            // Warm up the code paths (class loading, downcall linking) as a running service would be.
            try (var m = dev.thaw.linux.Mapping.anonymous(64L << 20, 3, 0x02 | 0x4000)) {
                new LazyRestoreImpl(RestoreRequest.of(f.reader, List.of(new dev.thaw.api.restore.HostRegion(m.address(),
                        m.size())), new NonePolicy(), x -> {}), false).close();
            }
            long t0 = System.nanoTime();
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    policy("bg", BACKGROUND), x -> {}).withLoaderThreads(1), false);
            try {
                // The handle is back (this is where the machine starts the vCPUs): nothing is loaded yet.
                long returned = System.nanoTime() - t0;
                RestoreStats atResume = restore.stats();
                System.out.printf("start() returned after %.3f ms, stats() %.3f ms%n", returned / 1e6,
                        (System.nanoTime() - t0 - returned) / 1e6);
                restore.resumed();
                RestoreStats end = restore.completion().get(60, TimeUnit.SECONDS);
                long resume = end.resumeLatency();
                System.out.printf("resume %.3f ms with %d of %d pages loaded; full load %.1f ms%n", resume / 1e6,
                        atResume.loadedPages(), atResume.presentPages(), end.fullLoadTime() / 1e6);
                assertEquals(0, atResume.loadedPages(), atResume.toString());
                // The proof is above (nothing loaded when the handle is back); the times are a sanity check
                // with room for this shared 2-core machine's noise.
                assertTrue(resume * 3 < end.fullLoadTime(), "resume " + resume + " ns, full load " + end.fullLoadTime());
                f.assertAllPagesEqual();
            } finally {
                restore.close();
            }
        }
    }

    @Test
    void thePolicyStartsOnlyOnceTheVcpusRunAndFaultsBeforeLoadTheirPageAlone() throws Exception {
        try (Fixture f = new Fixture(dir, 9, 2L << 20)) {
            AtomicInteger starts = new AtomicInteger();
            AtomicInteger asked = new AtomicInteger();
            PagePolicy counting = new PagePolicy() {
                public String name() {
                    return "counting";
                }

                public String description() {
                    return "counting";
                }

                public PolicySession start(RestoreView view) {
                    starts.incrementAndGet();
                    return new PolicySession() {
                        @Override
                        public List<PageRange> onFault(long page, int vcpu) {
                            asked.incrementAndGet();
                            return List.of();
                        }

                        @Override
                        public boolean backgroundLoading() {
                            return false;
                        }
                    };
                }
            };
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), counting, x -> {}), true);
            try {
                // Before the vCPUs run (as a page touched while the machine restores devices): served, no policy.
                new Fixture.Toucher(f, dir.resolve("before"), List.of(3L)).done.get(30, TimeUnit.SECONDS);
                assertEquals(0, starts.get(), "the policy starts after the resume, not on its path");
                restore.resumed();
                restore.awaitSession();
                assertEquals(1, starts.get());
                new Fixture.Toucher(f, dir.resolve("after"), List.of(300L)).done.get(30, TimeUnit.SECONDS);
                assertEquals(1, asked.get(), "a fault after the session opened asks it");
                restore.resumed(); // once is enough: the session is not started again
                restore.loadRemaining();
                restore.completion().get(30, TimeUnit.SECONDS);
                assertEquals(1, starts.get());
                f.assertAllPagesEqual();
            } finally {
                restore.close();
            }
        }
    }

    @Test
    void aCorruptPageIsReportedAndNeverZeroFilled() throws Exception {
        try (Fixture f = new Fixture(dir, 4, 2L << 20)) {
            long victim = -1;
            for (long p = 100; p < f.pages; p++) {
                if (!f.isZero(p)) {
                    victim = p;
                    break;
                }
            }
            // Flip a byte of the victim's page in the file (found by content: the page is random).
            byte[] file = Files.readAllBytes(f.file);
            byte[] page = f.expectedPage(victim).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            int at = indexOf(file, page);
            assertTrue(at > 0, "page found in the file");
            file[at + 100] ^= (byte) 0xff;
            Files.write(f.file, file);
            CompletableFuture<RestoreFailure> failure = new CompletableFuture<>();
            long bad = victim;
            try (var reader = new dev.thaw.format.thaw.impl.ThawSnapshotFormat().open(f.file)) {
                LazyRestoreImpl restore = new LazyRestoreImpl(new RestoreRequest(reader, f.hostRegions(),
                        new NonePolicy(), Map.of(), 0, ProfileMode.IGNORE, RestoreRequest.profileBeside(f.file), t -> -1,
                        failure::complete,
                        System.nanoTime()), false);
                Fixture.Toucher t = new Fixture.Toucher(f, dir.resolve("t"), List.of(0L, bad));
                try {
                    RestoreFailure reported = failure.get(30, TimeUnit.SECONDS);
                    assertEquals(bad, reported.page(), reported.message());
                    assertEquals(0, reported.region());
                    assertTrue(reported.message().contains("page " + bad), reported.message());
                    assertEquals(RestoreStats.Phase.FAILED, restore.stats().phase());
                    assertThrows(ExecutionException.class, () -> restore.completion().get(5, TimeUnit.SECONDS));
                    // Released at once, before close: the waiter retries and gets EFAULT, never zeros.
                    ExecutionException e = assertThrows(ExecutionException.class, () -> t.done.get(10, TimeUnit.SECONDS));
                    ErrnoException errno = assertInstanceOf(ErrnoException.class, e.getCause());
                    assertEquals(Errno.EFAULT, errno.errno());
                    assertFalse(f.resident(bad), "the page was never filled");
                } finally {
                    restore.close();
                }
                assertFalse(f.resident(bad), "the page was never filled, also after close");
            }
        }
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i += 4096) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void aPolicyThatThrowsOrAnswersOutOfRangeIsCountedAndTheRestoreCompletesBitExact() throws Exception {
        try (Fixture f = new Fixture(dir, 5, 8L << 20)) {
            AtomicInteger calls = new AtomicInteger();
            PolicySession bad = new PolicySession() {
                @Override
                public List<PageRange> onFault(long page, int vcpu) {
                    if (page % 2 == 0) {
                        throw new IllegalStateException("bad policy");
                    }
                    return List.of(new PageRange(1L << 40, 3), new PageRange(f.pages - 1, 10));
                }

                @Override
                public List<PageRange> next() {
                    int n = calls.incrementAndGet();
                    if (n == 1) {
                        throw new IllegalStateException("bad next");
                    }
                    return n < 4 ? List.of(new PageRange(f.pages + 5, 1)) : List.of();
                }

                @Override
                public boolean backgroundLoading() {
                    return false; // no loaders until loadRemaining: every fault of the toucher asks onFault
                }
            };
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    policy("bad", bad), x -> {}), true);
            try {
                restore.resumed(); // the session opens once the vCPUs run
                restore.awaitSession();
                List<Long> touch = randomPages(new Random(3), f.pages, 300);
                new Fixture.Toucher(f, dir.resolve("t"), touch).done.get(60, TimeUnit.SECONDS);
                restore.loadRemaining();
                RestoreStats s = restore.completion().get(60, TimeUnit.SECONDS);
                assertTrue(s.policyErrors() >= 3, s.toString());
                assertTrue(s.policyProblem().matches("(onFault|next).*"), s.policyProblem()); // the first error, named
                f.assertAllPagesEqual();
            } finally {
                restore.close();
            }
        }
    }

    @Test
    void aPolicyThatCrawlsOrHangsIsDisabledAndTheRestoreCompletesBitExact() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        // No loaders until loadRemaining: every fault of the toucher asks onFault.
        PolicySession crawls = new PolicySession() {
            @Override
            public List<PageRange> onFault(long page, int vcpu) {
                LockSupport.parkNanos(3 * GuardedPolicy.SLOW_CALL_NANOS);
                return List.of();
            }

            @Override
            public boolean backgroundLoading() {
                return false;
            }
        };
        PolicySession hangs = new PolicySession() {
            @Override
            public List<PageRange> onFault(long page, int vcpu) {
                awaitQuietly(never);
                return List.of();
            }

            @Override
            public boolean backgroundLoading() {
                return false;
            }
        };
        PolicySession nextHangs = new PolicySession() {
            @Override
            public List<PageRange> next() {
                awaitQuietly(never);
                return List.of();
            }
        };
        try {
            int seed = 20;
            for (PolicySession session : List.of(crawls, hangs, nextHangs)) {
                try (Fixture f = new Fixture(dir, seed++, 8L << 20)) {
                    LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                            policy("misbehaving", session), x -> {}).withLoaderThreads(2), true);
                    try {
                        // The session opens once the vCPUs run; then faults (every one asks onFault), then
                        // the loaders (which ask next()).
                        restore.resumed();
                        restore.awaitSession();
                        List<Long> touch = randomPages(new Random(seed), f.pages, 200);
                        new Fixture.Toucher(f, dir.resolve("t" + seed), touch).done.get(60, TimeUnit.SECONDS);
                        restore.loadRemaining();
                        RestoreStats s = restore.completion().get(60, TimeUnit.SECONDS);
                        assertTrue(s.policyErrors() >= 1, s.toString());
                        assertTrue(s.policyProblem().startsWith("disabled: "), s.policyProblem());
                        assertEquals(s.presentPages(), s.loadedPages());
                        f.assertAllPagesEqual();
                        for (int p = 0; p < f.pages; p++) {
                            assertTrue(restore.copies.get(p) <= 1, "page " + p + " copied " + restore.copies.get(p) + " times");
                        }
                    } finally {
                        restore.close();
                    }
                }
            }
        } finally {
            never.countDown(); // lets the threads the hung policy held go
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void recordingWritesTheFirstTouchOrderAndALaterRestoreSeesItAndAForeignProfileIsIgnored() throws Exception {
        List<Long> order = List.of(50L, 51L, 52L, 10L, 11L, 51L, 200L, 9L);
        Path profileFile = dir.resolve("profiles/snapshot.profile.json"); // a folder made on first write
        try (Fixture f = new Fixture(dir, 6, 2L << 20)) {
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    policy("bg", BACKGROUND), x -> {}).withProfile(ProfileMode.RECORD).withProfileFile(profileFile), false);
            Path profile;
            try {
                restore.resumed(); // the vCPUs run: recording holds the loaders back until the profile is saved
                assertTrue(restore.recording());
                new Fixture.Toucher(f, dir.resolve("t"), order).done.get(30, TimeUnit.SECONDS);
                RestoreStats s = restore.stats();
                assertEquals(RestoreStats.Phase.RECORDING, s.phase());
                assertEquals(0, s.pagesBackground() + s.pagesPrefetch(), "pure demand while recording");
                profile = restore.saveProfile();
                assertFalse(restore.recording());
                assertThrows(IllegalStateException.class, restore::saveProfile);
                restore.completion().get(30, TimeUnit.SECONDS);
                f.assertAllPagesEqual();
            } finally {
                restore.close();
            }
            assertEquals(profileFile, profile);
            AtomicReference<Optional<WorkingSet>> seen = new AtomicReference<>();
            PagePolicy peek = new PagePolicy() {
                public String name() {
                    return "peek";
                }

                public String description() {
                    return "peek";
                }

                public PolicySession start(RestoreView view) {
                    seen.set(view.workingSet());
                    return new PolicySession() {};
                }
            };
            try (var m = dev.thaw.linux.Mapping.anonymous(2L << 20, 3, 0x02 | 0x4000)) {
                LazyRestoreImpl again = new LazyRestoreImpl(RestoreRequest.of(f.reader,
                        List.of(new dev.thaw.api.restore.HostRegion(m.address(), m.size())), peek, x -> {})
                        .withProfileFile(profileFile), false);
                again.resumed(); // the session opens once the vCPUs run
                again.close();
            }
            WorkingSet ws = seen.get().orElseThrow();
            assertEquals(List.of(new PageRange(50, 3), new PageRange(10, 2), new PageRange(200, 1), new PageRange(9, 1)),
                    ws.runs());
            String json = Files.readString(profile);
            assertTrue(json.contains("\"thaw-working-set\""), json);

            // A profile of another snapshot: ignored with a warning.
            try (Fixture other = new Fixture(dir, 7, 2L << 20)) {
                Files.copy(profile, RestoreRequest.profileBeside(other.file));
                LazyRestoreImpl third = new LazyRestoreImpl(RestoreRequest.of(other.reader, other.hostRegions(), peek,
                        x -> {}), false);
                third.resumed();
                third.close();
                assertEquals(Optional.empty(), seen.get());
                assertEquals(1, third.warnings().size(), third.warnings().toString());
                assertTrue(third.warnings().getFirst().contains("recorded on another snapshot"), third.warnings().getFirst());
            }
        }
    }

    @Test
    void closeDuringLoadingReleasesFdsAndThreads() throws Exception {
        try (Fixture f = new Fixture(dir, 8, 64L << 20)) {
            // Settle first-use resources (classes, native libraries) before counting.
            new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), new NonePolicy(), x -> {}), false).close();
            try (var m = dev.thaw.linux.Mapping.anonymous(64L << 20, 3, 0x02 | 0x4000)) {
                long fds = Fixture.openFds();
                LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader,
                        List.of(new dev.thaw.api.restore.HostRegion(m.address(), m.size())), policy("bg", BACKGROUND),
                        x -> {}).withLoaderThreads(2), false);
                restore.resumed();
                assertTrue(Fixture.openFds() >= fds + 2, "uffd and eventfd open");
                restore.close();
                RestoreStats s = restore.stats();
                assertEquals(RestoreStats.Phase.CLOSED, s.phase(), s.toString());
                assertTrue(s.loadedPages() < s.presentPages(), "closed while loading: " + s);
                assertEquals(fds, Fixture.openFds());
                assertTrue(Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith("thaw-restore") && t.isAlive()));
                assertThrows(ExecutionException.class, () -> restore.completion().get(1, TimeUnit.SECONDS));
            }
        }
    }
}
