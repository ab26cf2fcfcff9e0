package dev.thaw.restore.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.restore.HostRegion;
import dev.thaw.api.restore.LazyRestore;
import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreFailure;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.restore.SharedPageCache;
import dev.thaw.api.snapshot.FileIdentity;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.testing.RequiresUserfaultfd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleets of restores from one snapshot sharing its pages through a {@link SharedPageCacheImpl}
 * (docs/shared-fleets.md): real snapshot files, real memfd and userfaultfd; guest memory is touched only
 * by the kernel (write(2) from it, read(2) into it) while registered.
 */
@RequiresUserfaultfd
@Timeout(180)
class SharedFleetTest {

    static final int PAGE = Fixture.PAGE;
    static final PagePolicy BACKGROUND = LazyRestoreTest.policy("bg", new PolicySession() {});

    @TempDir
    Path dir;

    /** A real reader that counts the reads of each page (numbered across regions): the test's view of the file. */
    record CountingReader(SnapshotReader reader, long[] first, AtomicIntegerArray reads) implements SnapshotReader {

        static CountingReader of(SnapshotReader reader) {
            List<SnapshotRegion> regions = reader.regions();
            long[] first = new long[regions.size() + 1];
            for (int r = 0; r < regions.size(); r++) {
                first[r + 1] = first[r] + regions.get(r).pages();
            }
            return new CountingReader(reader, first, new AtomicIntegerArray(Math.toIntExact(first[regions.size()])));
        }

        public Path file() {
            return reader.file();
        }

        public Optional<FileIdentity> fileIdentity() {
            return reader.fileIdentity();
        }

        public String format() {
            return reader.format();
        }

        public int version() {
            return reader.version();
        }

        public Optional<MachineState> state() {
            return reader.state();
        }

        public List<SnapshotRegion> regions() {
            return reader.regions();
        }

        public boolean isPresent(int region, long page) {
            return reader.isPresent(region, page);
        }

        public void readPages(int region, long firstPage, long count, MemorySegment target) {
            for (long p = firstPage; p < firstPage + count; p++) {
                reads.incrementAndGet(Math.toIntExact(first[region] + p));
            }
            reader.readPages(region, firstPage, count, target);
        }

        public void close() {
            reader.close();
        }
    }

    /** One fleet member's guest memory: fresh anonymous mappings, as a runtime gives them. */
    static final class Guest implements AutoCloseable {
        final List<Mapping> regions = new ArrayList<>();

        Guest(Fixture f) {
            for (Mapping m : f.guest) {
                regions.add(Mapping.anonymous(m.size(), Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_NORESERVE));
            }
        }

        List<HostRegion> hostRegions() {
            return regions.stream().map(m -> new HostRegion(m.address(), m.size())).toList();
        }

        MemorySegment page(long page) {
            for (Mapping m : regions) {
                long n = m.size() / PAGE;
                if (page < n) {
                    return m.segment().asSlice(page * PAGE, PAGE);
                }
                page -= n;
            }
            throw new IllegalArgumentException("page " + page);
        }

        /** Writes {@code bytes} at the start of {@code page} through read(2): the kernel makes the store. */
        void write(long page, Path source) {
            int fd = Libc.open(source.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
            try {
                MemorySegment target = page(page).asSlice(0, 8);
                assertEquals(8, Libc.read(fd, target));
            } finally {
                Libc.close(fd);
            }
        }

        @Override
        public void close() {
            regions.forEach(Mapping::close);
        }
    }

    /** A file of 8 bytes that marks member {@code i}'s writes. */
    private Path mark(int i) throws Exception {
        Path p = dir.resolve("mark-" + i);
        Files.write(p, ("member-" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return p;
    }

    private static List<Long> randomPages(Random r, long pages, int n) {
        List<Long> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add((long) r.nextInt((int) pages));
        }
        return list;
    }

    /** Every page of {@code g} equals the snapshot's, but for {@code written} pages, which start with the mark. */
    private static void assertGuest(Fixture f, Guest g, List<Long> written, Path mark, String who) throws Exception {
        byte[] marked = Files.readAllBytes(mark);
        for (long p = 0; p < f.pages; p++) {
            MemorySegment expected = f.expectedPage(p);
            MemorySegment actual = g.page(p);
            if (written.contains(p)) {
                assertArrayEquals(marked, actual.asSlice(0, 8).toArray(ValueLayout.JAVA_BYTE), who + " page " + p);
                expected = expected.asSlice(8);
                actual = actual.asSlice(8);
            }
            long at = actual.mismatch(expected);
            assertEquals(-1, at, who + ": page " + p + " differs at byte " + at);
        }
    }

    /**
     * A member whose policy loads nothing ahead ({@code none}) reads nothing itself: it completes once another member
     * filled the cache, and from then on its guest gets every page from the kernel's mapping of the cache.
     */
    @Test
    void aMemberThatLoadsNothingAheadCompletesWhenAnotherFilledTheCache() throws Exception {
        try (Fixture f = new Fixture(dir, 44, 8L << 20, 4L << 20)) {
            SharedPageCacheImpl cache = new SharedPageCacheImpl(f.reader);
            try (Guest idle = new Guest(f); Guest filling = new Guest(f)) {
                LazyRestoreImpl waiting = new LazyRestoreImpl(RestoreRequest.of(f.reader, idle.hostRegions(), new NonePolicy(),
                        x -> {}), true, cache);
                LazyRestoreImpl loading = new LazyRestoreImpl(RestoreRequest.of(f.reader, filling.hostRegions(), BACKGROUND,
                        x -> {}).withLoaderThreads(1), true, cache);
                try {
                    waiting.resumed();
                    assertEquals(RestoreStats.Phase.LOADING, waiting.stats().phase(), "nothing cached yet");
                    loading.resumed();
                    assertEquals(RestoreStats.Phase.COMPLETE, loading.completion().get(60, TimeUnit.SECONDS).phase());
                    RestoreStats s = waiting.completion().get(10, TimeUnit.SECONDS);
                    assertEquals(RestoreStats.Phase.COMPLETE, s.phase());
                    assertEquals(0, s.bytesRead(), s.toString());
                    assertEquals(cache.presentPages(), s.loadedPages(), s.toString());
                    assertGuest(f, idle, List.of(), mark(0), "the member that loaded nothing");
                    assertArrayEquals(new int[(int) f.pages], installed(waiting, f.pages), "pages Thaw put in");
                } finally {
                    waiting.close();
                    loading.close();
                }
            } finally {
                cache.close();
            }
        }
    }

    @Test
    void fourRestoresFromOneCacheReadEachPageOnceSeeTheSnapshotAndKeepTheirWritesToThemselves() throws Exception {
        try (Fixture f = new Fixture(dir, 40, 16L << 20, 8L << 20)) {
            byte[] fileBefore = Files.readAllBytes(f.file);
            CountingReader reader = CountingReader.of(f.reader);
            SharedPageCacheImpl cache = new SharedPageCacheImpl(reader);
            List<Guest> guests = new ArrayList<>();
            List<LazyRestoreImpl> restores = new ArrayList<>();
            List<List<Long>> written = new ArrayList<>();
            AtomicReference<RestoreFailure> failure = new AtomicReference<>();
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Fixture.Toucher> touchers = new ArrayList<>();
                Random r = new Random(11);
                List<Long> common = randomPages(r, f.pages, 200);
                for (int i = 0; i < 4; i++) {
                    Guest g = new Guest(f);
                    guests.add(g);
                    List<Long> touch = new ArrayList<>(common);
                    touch.addAll(randomPages(r, f.pages, 200));
                    java.util.Collections.shuffle(touch, r);
                    touchers.add(new Fixture.Toucher(g::page, dir.resolve("t" + i), touch, go));
                    restores.add(new LazyRestoreImpl(RestoreRequest.of(reader, g.hostRegions(), BACKGROUND, failure::set)
                            .withLoaderThreads(1), true, cache));
                    written.add(randomPages(r, f.pages, 30).stream().distinct().toList());
                }
                assertEquals(4, cache.members());
                go.countDown();
                restores.forEach(LazyRestoreImpl::resumed);
                // Writes while the fleet loads: to pages not yet mapped (a write fault), mapped read-only from
                // the cache (copy on write), and to holes (zero pages of the guest's own).
                for (int i = 0; i < 4; i++) {
                    Path mark = mark(i);
                    for (long p : written.get(i)) {
                        guests.get(i).write(p, mark);
                    }
                }
                for (int i = 0; i < 4; i++) {
                    touchers.get(i).done.get(60, TimeUnit.SECONDS);
                    RestoreStats s = restores.get(i).completion().get(60, TimeUnit.SECONDS);
                    assertEquals(RestoreStats.Phase.COMPLETE, s.phase(), s.toString());
                }
                assertNull(failure.get());
                assertEquals(f.reader.regions().stream().mapToLong(SnapshotRegion::presentPages).sum(), cache.cachedPages(),
                        "every present page cached");
                assertEquals(0, cache.members(), "a restore lets go of the cache when it ends");
                long readBytes = restores.stream().mapToLong(x -> x.stats().bytesRead()).sum();
                assertEquals(cache.cachedPages() * PAGE, readBytes, "the fleet's reads add up to the snapshot once");

                for (int i = 0; i < 4; i++) {
                    // Installed by Thaw at most once: what the guest touched before the cache was complete. Every
                    // other page comes from the kernel's mapping of the cache, the restore done and its uffd gone.
                    int[] before = installed(restores.get(i), f.pages);
                    assertGuest(f, guests.get(i), written.get(i), mark(i), "member " + i);
                    assertArrayEquals(before, installed(restores.get(i), f.pages), "member " + i + ": pages installed by Thaw "
                            + "after its restore completed");
                    for (long p = 0; p < f.pages; p++) {
                        assertTrue(before[(int) p] <= 1, "member " + i + " page " + p + " installed " + before[(int) p] + " times");
                    }
                }
                for (List<Long> w : written) {
                    for (long p : w) {
                        if (!f.isZero(p)) {
                            assertEquals(-1, cache.cachedPage(p).mismatch(f.expectedPage(p)), "the cache's page " + p);
                        }
                    }
                }

                // A fifth member, later: the snapshot's bytes, none of the others' writes, nothing read again.
                Guest fifth = new Guest(f);
                guests.add(fifth);
                LazyRestoreImpl late = new LazyRestoreImpl(RestoreRequest.of(reader, fifth.hostRegions(), BACKGROUND,
                        failure::set).withLoaderThreads(1), true, cache);
                restores.add(late);
                late.resumed();
                assertEquals(RestoreStats.Phase.COMPLETE, late.completion().get(60, TimeUnit.SECONDS).phase());
                assertEquals(0, late.stats().bytesRead());
                assertEquals(cache.presentPages(), late.stats().loadedPages(), "a member counts the cache's pages loaded");
                assertGuest(f, fifth, List.of(), mark(0), "the fifth member");
                assertArrayEquals(new int[(int) f.pages], installed(late, f.pages), "the fifth member, restored from a full "
                        + "cache, got every page from the kernel's mapping of it, none from Thaw");

                for (long p = 0; p < f.pages; p++) {
                    assertEquals(f.isZero(p) ? 0 : 1, reader.reads().get((int) p), "page " + p + " reads from the file");
                }
            } finally {
                restores.forEach(LazyRestoreImpl::close);
                cache.close();
                guests.forEach(Guest::close);
            }
            assertArrayEquals(fileBefore, Files.readAllBytes(f.file), "the snapshot file is unchanged");
        }
    }

    @Test
    void aCorruptPageFailsEveryMemberThatNeedsItWithTheEnginesOneLineAndIsReadOnce() throws Exception {
        try (Fixture f = new Fixture(dir, 41, 2L << 20)) {
            long victim = 100;
            while (f.isZero(victim)) {
                victim++;
            }
            byte[] file = Files.readAllBytes(f.file);
            int at = LazyRestoreTest.indexOf(file, f.expectedPage(victim).toArray(ValueLayout.JAVA_BYTE));
            assertTrue(at > 0, "page found in the file");
            file[at + 100] ^= (byte) 0xff;
            Files.write(f.file, file);
            long bad = victim;
            CountingReader reader = CountingReader.of(new ThawSnapshotFormat().open(f.file));
            SharedPageCacheImpl cache = new SharedPageCacheImpl(reader);
            List<Guest> guests = new ArrayList<>();
            List<LazyRestoreImpl> restores = new ArrayList<>();
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<CompletableFuture<RestoreFailure>> failures = new ArrayList<>();
                List<Fixture.Toucher> touchers = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    Guest g = new Guest(f);
                    guests.add(g);
                    CompletableFuture<RestoreFailure> failure = new CompletableFuture<>();
                    failures.add(failure);
                    restores.add(new LazyRestoreImpl(RestoreRequest.of(reader, g.hostRegions(), new NonePolicy(),
                            failure::complete).withLoaderThreads(0).withProfile(ProfileMode.IGNORE), false, cache));
                    // Members 0..2 need the page at once; member 3 after they failed.
                    if (i < 3) {
                        touchers.add(new Fixture.Toucher(g::page, dir.resolve("t" + i), List.of(0L, bad), go));
                    }
                }
                go.countDown();
                String expected = f.file + ": lazy restore stopped: page " + bad + " (region 0 page " + bad + "): ";
                List<String> messages = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    RestoreFailure reported = failures.get(i).get(30, TimeUnit.SECONDS);
                    assertEquals(bad, reported.page(), reported.message());
                    assertTrue(reported.message().startsWith(expected), reported.message());
                    assertFalse(reported.message().contains("\n"), "one line: " + reported.message());
                    messages.add(reported.message());
                    ExecutionException e = assertThrows(ExecutionException.class,
                            touchers.get(i).done::get, "member " + i + " never reads the page");
                    assertEquals(Errno.EFAULT, assertInstanceOf(ErrnoException.class, e.getCause()).errno());
                    assertEquals(RestoreStats.Phase.FAILED, restores.get(i).stats().phase());
                }
                assertEquals(1, messages.stream().distinct().count(), "the same failure for each: " + messages);
                Fixture.Toucher later = new Fixture.Toucher(guests.get(3)::page, dir.resolve("t3"), List.of(bad),
                        new CountDownLatch(0));
                assertEquals(messages.getFirst(), failures.get(3).get(30, TimeUnit.SECONDS).message());
                assertThrows(ExecutionException.class, later.done::get);
                assertEquals(1, reader.reads().get((int) bad), "the bad page was read once for the whole fleet");
            } finally {
                restores.forEach(LazyRestoreImpl::close);
                cache.close();
                guests.forEach(Guest::close);
                reader.close();
            }
        }
    }

    /** Pss and Rss (kB) summed over every mapping of the cache's memfd: Thaw's own and each member's guest memory. */
    private static long[] memfdMemory(String memfdName) throws Exception {
        long pss = 0;
        long rss = 0;
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                inside = line.contains("/memfd:" + memfdName + " ");
                if (!inside && line.endsWith("/memfd:" + memfdName)) {
                    inside = true;
                }
            } else if (inside && line.startsWith("Pss:")) {
                pss += Long.parseLong(line.replaceAll("\\D", ""));
            } else if (inside && line.startsWith("Rss:")) {
                rss += Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return new long[] {pss, rss};
    }

    /** How many times Thaw put each page into {@code restore}'s guest memory. */
    private static int[] installed(LazyRestoreImpl restore, long pages) {
        int[] n = new int[(int) pages];
        for (int p = 0; p < n.length; p++) {
            n[p] = restore.copies.get(p);
        }
        return n;
    }

    @Test
    void aLoadedFleetHoldsOneCopyOfTheSnapshotsPagesPlusThePagesItWrote() throws Exception {
        int members = 4;
        int writesEach = 256;
        try (Fixture f = new Fixture(dir, 42, 64L << 20)) {
            SharedPageCacheImpl cache = new SharedPageCacheImpl(f.reader);
            String memfdName = "thaw-cache:" + f.file.getFileName();
            List<Guest> guests = new ArrayList<>();
            List<LazyRestoreImpl> restores = new ArrayList<>();
            try {
                for (int i = 0; i < members; i++) {
                    Guest g = new Guest(f);
                    guests.add(g);
                    restores.add(new LazyRestoreImpl(RestoreRequest.of(f.reader, g.hostRegions(), BACKGROUND, x -> {})
                            .withLoaderThreads(1), false, cache));
                }
                restores.forEach(LazyRestoreImpl::resumed);
                for (LazyRestoreImpl restore : restores) {
                    assertEquals(RestoreStats.Phase.COMPLETE, restore.completion().get(60, TimeUnit.SECONDS).phase());
                }
                long present = cache.presentPages();
                // Figures for docs/shared-fleets.md, no assertion (a shared 2-core machine): a member's full load
                // from a full cache, beside the same restore on anonymous memory.
                try (Guest fromCache = new Guest(f); Guest anonymous = new Guest(f)) {
                    LazyRestoreImpl shared = new LazyRestoreImpl(RestoreRequest.of(f.reader, fromCache.hostRegions(),
                            BACKGROUND, x -> {}).withLoaderThreads(1), false, cache);
                    shared.resumed();
                    RestoreStats s = shared.completion().get(60, TimeUnit.SECONDS);
                    shared.close();
                    LazyRestoreImpl copied = new LazyRestoreImpl(RestoreRequest.of(f.reader, anonymous.hostRegions(),
                            BACKGROUND, x -> {}).withLoaderThreads(1), false);
                    copied.resumed();
                    RestoreStats a = copied.completion().get(60, TimeUnit.SECONDS);
                    copied.close();
                    System.out.printf("full load of %d present pages, 1 loader: from the full shared cache %.1f ms"
                            + " (%d bytes read), anonymous %.1f ms%n", present, s.fullLoadTime() / 1e6, s.bytesRead(),
                            a.fullLoadTime() / 1e6);
                    assertEquals(0, s.bytesRead());
                }
                List<Long> presentPages = new ArrayList<>();
                for (long p = 0; p < f.pages; p++) {
                    if (!f.isZero(p)) {
                        presentPages.add(p);
                    }
                }
                for (int i = 0; i < members; i++) {
                    Path mark = mark(i);
                    for (int w = 0; w < writesEach; w++) {
                        guests.get(i).write(presentPages.get((i * writesEach + w) * 7 % presentPages.size()), mark);
                    }
                }
                long[] used = memfdMemory(memfdName);
                long presentKb = present * PAGE / 1024;
                long writtenKb = (long) members * writesEach * PAGE / 1024;
                System.out.printf("fleet of %d over %d present pages (%d kB): Pss %d kB, Rss %d kB, %d kB written;"
                        + " the cache's memfd %d kB%n", members, present, presentKb, used[0], used[1], writtenKb,
                        cache.residentBytes() / 1024);
                assertEquals(present * PAGE, cache.residentBytes(), "the memfd holds the present pages, no holes");
                assertTrue(used[1] <= (presentKb + writtenKb) * 105 / 100, "the members map only what their guests "
                        + "touched, the cache's own view each cached page once: Rss " + used[1] + " kB");
                assertTrue(used[0] >= presentKb + writtenKb - 64 && used[0] <= (presentKb + writtenKb) * 105 / 100,
                        "Pss " + used[0] + " kB: about one copy of the present pages (" + presentKb + " kB) plus the "
                                + writtenKb + " kB written, not " + members + " copies");
            } finally {
                restores.forEach(LazyRestoreImpl::close);
                cache.close();
                guests.forEach(Guest::close);
            }
        }
    }

    private static List<String> cacheMappings(String memfdName) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("memfd:" + memfdName)).toList();
    }

    @Test
    void theCacheLivesWhileItsOwnerOrARunningMemberHoldsItAndLeavesNothingBehind() throws Exception {
        RestoreEngine engine = new RestoreEngine();
        try (Fixture f = new Fixture(dir, 43, 2L << 20, 1L << 20)) {
            String memfdName = "thaw-cache:" + f.file.getFileName();
            // Settle first-use resources (classes, native libraries, the engine's threads) before counting.
            try (Guest g = new Guest(f); SharedPageCache warm = engine.openSharedCache(f.reader)) {
                engine.start(RestoreRequest.of(f.reader, g.hostRegions(), new NonePolicy(), x -> {}), warm).close();
            }
            long fds = Fixture.openFds();
            Guest loading = new Guest(f);
            Guest refused = new Guest(f);
            SharedPageCache cache = engine.openSharedCache(f.reader);
            assertEquals(fds + 2, Fixture.openFds(), "the memfd, and the snapshot file held open");
            assertEquals(1, cacheMappings(memfdName).size(), "Thaw's own mapping of it");

            // A member whose policy loads nothing ahead: the cache stays incomplete, and it keeps loading.
            LazyRestore running = engine.start(RestoreRequest.of(f.reader, loading.hostRegions(), new NonePolicy(),
                    x -> {}), cache);
            assertEquals(1, cache.members(), "the loading member holds it");

            cache.close();
            cache.close();
            assertEquals(1, cache.members());
            assertEquals(fds + 4, Fixture.openFds(), "the memfd, the snapshot file, and the loading member's uffd and eventfd");
            List<String> before = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.startsWith(Long.toHexString(refused.regions.getFirst().address()))).toList();
            RestoreException e = assertThrows(RestoreException.class, () -> engine.start(RestoreRequest.of(f.reader,
                    refused.hostRegions(), new NonePolicy(), x -> {}), cache));
            assertEquals(f.file + ": the shared page cache is closed", e.getMessage());
            assertEquals(before, Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.startsWith(Long.toHexString(refused.regions.getFirst().address()))).toList(),
                    "a refused member's memory is left as it was");

            running.close();
            assertEquals(0, cache.members());
            assertEquals(0, cache.residentBytes(), "released");
            RestoreTeardownTest.Held.assertBack(new RestoreTeardownTest.Held(fds, 0, List.of()), List.of());
            // The member's guest memory still maps the pages (the VM runs on); it goes with its mappings.
            assertEquals(List.of(), cacheMappings(memfdName).stream().filter(l -> l.contains(" rw-s ")).toList(),
                    "Thaw's own mapping is gone");
            loading.close();
            refused.close();
            assertEquals(List.of(), cacheMappings(memfdName), "nothing maps the memfd once the guests are gone");
        } finally {
            engine.deactivate();
        }
    }
}
