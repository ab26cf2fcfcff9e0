package dev.thaw.restore.impl;

import dev.thaw.support.profile.ProfileCache;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.restore.HostRegion;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreFailure;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** How a restore ends: what close() may touch after the end, and what it leaves behind. */
@RequiresUserfaultfd
@Timeout(120)
class RestoreTeardownTest {

    static final PagePolicy BACKGROUND = LazyRestoreTest.policy("bg", new PolicySession() {});

    @TempDir
    Path dir;

    /** Opens files until one gets fd number {@code wanted} (the lowest free numbers come first). */
    private List<Integer> openUntil(int wanted, List<Path> files) throws Exception {
        List<Integer> fds = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            Path p = dir.resolve("reuse-" + i);
            Files.createFile(p);
            int fd = Libc.open(p.toString(), 1 /* O_WRONLY */ | Libc.O_CLOEXEC);
            fds.add(fd);
            files.add(p);
            if (fd == wanted) {
                return fds;
            }
        }
        throw new AssertionError("fd " + wanted + " was not reused within 256 opens: " + fds);
    }

    @Test
    void closingARestoreThatEndedWritesNothingToAFileThatReusedItsEventfdNumber() throws Exception {
        try (Fixture f = new Fixture(dir, 30, 2L << 20)) {
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), BACKGROUND,
                    x -> {}).withLoaderThreads(1), false);
            int stopFd = restore.stopFd();
            restore.resumed();
            assertEquals(RestoreStats.Phase.COMPLETE, restore.completion().get(30, TimeUnit.SECONDS).phase());
            List<Path> files = new ArrayList<>();
            List<Integer> fds = openUntil(stopFd, files);
            try {
                restore.close(); // as GuestVm does when the VM stops, long after the restore ended
                restore.close();
            } finally {
                fds.forEach(Libc::close);
            }
            for (Path p : files) {
                assertEquals(0, Files.size(p), p + " (an fd the restore once held) was written to");
            }
        }
    }

    @Test
    void closingARestoreThatEndedDoesNotStopALaterRestoreGivenItsEventfdNumber() throws Exception {
        try (Fixture f = new Fixture(dir, 31, 2L << 20); Fixture g = new Fixture(dir, 32, 2L << 20)) {
            LazyRestoreImpl a = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), BACKGROUND,
                    x -> {}).withLoaderThreads(1), false);
            int stopFd = a.stopFd();
            a.resumed();
            a.completion().get(30, TimeUnit.SECONDS);
            // Leave A's old eventfd number the second lowest free, after one below it: B's uffd, then B's eventfd.
            List<Path> files = new ArrayList<>();
            List<Integer> fds = openUntil(stopFd, files);
            assertTrue(fds.size() >= 2 && fds.get(fds.size() - 2) < stopFd, "A's uffd number was below its eventfd's: " + fds);
            Libc.close(fds.removeLast());
            Libc.close(fds.removeLast());
            LazyRestoreImpl b = new LazyRestoreImpl(RestoreRequest.of(g.reader, g.hostRegions(), new NonePolicy(),
                    x -> {}), false);
            try {
                assertEquals(stopFd, b.stopFd(), "B was given A's old eventfd number");
                a.close();
                long page = 0;
                while (g.isZero(page)) {
                    page++;
                }
                new Fixture.Toucher(g, dir.resolve("t"), List.of(page)).done.get(10, TimeUnit.SECONDS);
                // The fault is counted just after its wake: give the fault service a moment.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (b.stats().faults() < 1 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertEquals(RestoreStats.Phase.LOADING, b.stats().phase());
                assertEquals(1, b.stats().faults(), b.stats().toString());
            } finally {
                b.close();
                fds.forEach(Libc::close);
            }
        }
    }

    /** A real reader whose reads of {@code page} (region 0) wait until {@code go} opens: a slow disk. */
    record SlowReader(SnapshotReader reader, long page, CountDownLatch reading, CountDownLatch go) implements SnapshotReader {
        public Path file() {
            return reader.file();
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

        public boolean isPresent(int region, long p) {
            return reader.isPresent(region, p);
        }

        public void readPages(int region, long first, long count, MemorySegment target) {
            if (region == 0 && first <= page && page < first + count) {
                reading.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            reader.readPages(region, first, count, target);
        }

        public void close() {}
    }

    private static long presentPage(Fixture f, long from) {
        long p = from;
        while (f.isZero(p)) {
            p++;
        }
        return p;
    }

    private static void assertEfault(CompletableFutureLike touch, String what) {
        ExecutionException e = assertThrows(ExecutionException.class, touch::get, what + ": no fault");
        ErrnoException errno = assertInstanceOf(ErrnoException.class, e.getCause(), what);
        assertEquals(Errno.EFAULT, errno.errno(), what);
    }

    interface CompletableFutureLike {
        void get() throws Exception;
    }

    @Test
    void closeWhileLoadingLeavesNoZerosWhereTheSnapshotHasData() throws Exception {
        try (Fixture f = new Fixture(dir, 33, 8L << 20)) {
            Held before = Held.now(List.of());
            long waited = presentPage(f, 100);
            long untouched = presentPage(f, 1000);
            long touched = presentPage(f, 10);
            CountDownLatch reading = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            CompletableFuture<RestoreFailure> failure = new CompletableFuture<>();
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(new SlowReader(f.reader, waited, reading, go),
                    f.hostRegions(), new NonePolicy(), failure::complete), false);
            Fixture.Toucher waiter;
            try {
                restore.resumed();
                new Fixture.Toucher(f, dir.resolve("touched"), List.of(touched)).done.get(10, TimeUnit.SECONDS);
                // A vCPU waits on a page whose read is slow when the VM is closed.
                waiter = new Fixture.Toucher(f, dir.resolve("waiter"), List.of(waited));
                assertTrue(reading.await(10, TimeUnit.SECONDS));
            } finally {
                restore.close();
            }
            try {
                assertEfault(() -> waiter.done.get(10, TimeUnit.SECONDS), "the thread waiting on page " + waited);
                // A thread touching a page never loaded after the close: a fault, not zero-fill.
                Fixture.Toucher late = new Fixture.Toucher(f, dir.resolve("late"), List.of(untouched));
                assertEfault(() -> late.done.get(10, TimeUnit.SECONDS), "a touch of page " + untouched + " after close");
                assertFalse(f.resident(untouched), "page " + untouched + " was zero-filled");
                assertEquals(-1, f.guestPage(touched).mismatch(f.expectedPage(touched)), "a loaded page stays readable");
                assertEquals(RestoreStats.Phase.CLOSED, restore.stats().phase());
            } finally {
                go.countDown();
            }
            // The fault service the slow read held finds the restore closed when it returns: that is no failure,
            // and its lease was the last, so the restore's fds close then.
            Held.assertBack(before, List.of());
            assertEquals(RestoreStats.Phase.CLOSED, restore.stats().phase());
            assertFalse(failure.isDone(), () -> "reported after the close: " + failure.join().message());
        }
    }

    /**
     * What a restore may leave behind: open fds, live engine threads, and the mappings over guest memory
     * (a split or a registration left over shows there). The rest of /proc/self/maps is not compared: the
     * JVM's heap, code cache and malloc arenas grow under any test, and the engine maps nothing else.
     */
    record Held(long fds, long threads, List<String> guestMappings) {
        static Held now(List<HostRegion> guest) throws Exception {
            long threads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && t.getName().startsWith("thaw-restore")).count();
            List<String> mappings = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                long from = Long.parseUnsignedLong(range[0], 16);
                long to = Long.parseUnsignedLong(range[1], 16);
                if (guest.stream().anyMatch(r -> from < r.hostAddress() + r.size() && to > r.hostAddress())) {
                    mappings.add(line);
                }
            }
            return new Held(Fixture.openFds(), threads, mappings);
        }

        /** The same as {@code before}, once the threads that just ended are gone (a few ms). */
        static void assertBack(Held before, List<HostRegion> guest) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            Held now = now(guest);
            while (!now.equals(before) && System.nanoTime() < deadline) {
                Thread.sleep(10);
                now = now(guest);
            }
            assertEquals(before, now, "fds, engine threads and guest memory mappings before and after");
        }
    }

    /** Runs the first {@code accepted} jobs on new threads and refuses the rest, as a pool that is stopping. */
    static Executor acceptingOnly(int accepted) {
        AtomicInteger jobs = new AtomicInteger();
        return job -> {
            if (jobs.incrementAndGet() > accepted) {
                throw new RejectedExecutionException("no more threads (job " + jobs.get() + ")");
            }
            Thread.ofPlatform().daemon().start(job);
        };
    }

    /** Whether any of {@code region}'s mappings is registered with a userfaultfd (smaps VmFlags "um"). */
    static boolean registered(HostRegion region) throws Exception {
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                long from = Long.parseUnsignedLong(range[0], 16);
                long to = Long.parseUnsignedLong(range[1], 16);
                inside = from < region.hostAddress() + region.size() && to > region.hostAddress();
            } else if (inside && line.startsWith("VmFlags:") && List.of(line.substring(8).trim().split(" ")).contains("um")) {
                return true;
            }
        }
        return false;
    }

    private void warmUp(Fixture f) {
        new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), new NonePolicy(), x -> {}), false).close();
    }

    @Test
    void aRefusedFaultServiceStartIsRefusedWithOneLineAndLeavesNothingBehind() throws Exception {
        try (Fixture f = new Fixture(dir, 34, 2L << 20, 1L << 20)) {
            warmUp(f);
            Held before = Held.now(f.hostRegions());
            RestoreException e = assertThrows(RestoreException.class, () -> new LazyRestoreImpl(RestoreRequest.of(f.reader,
                    f.hostRegions(), BACKGROUND, x -> {}), false, new ProfileCache(), acceptingOnly(0), null, LoadSettings.DEFAULTS));
            assertTrue(e.getMessage().startsWith(f.file + ": cannot start the fault service: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            Held.assertBack(before, f.hostRegions());
            for (HostRegion r : f.hostRegions()) {
                assertFalse(registered(r), r + " is still registered");
            }
        }
    }

    @Test
    void aRegistrationThatFailsForALaterRegionUnregistersEveryEarlierOneAndLeavesNothingBehind() throws Exception {
        try (Fixture f = new Fixture(dir, 35, 1L << 20, 1L << 20, 1L << 20)) {
            warmUp(f);
            // Region 2 is a shared file mapping: userfaultfd refuses to register it (EINVAL).
            Path backing = dir.resolve("backing");
            Files.write(backing, new byte[1 << 20]);
            int fd = Libc.open(backing.toString(), Libc.O_RDWR | Libc.O_CLOEXEC);
            try (Mapping shared = Mapping.file(fd, 1L << 20, Libc.PROT_READ, Libc.MAP_SHARED, 0)) {
                List<HostRegion> regions = new ArrayList<>(f.hostRegions());
                regions.set(2, new HostRegion(shared.address(), shared.size()));
                Held before = Held.now(regions);
                RestoreException e = assertThrows(RestoreException.class, () -> new LazyRestoreImpl(
                        RestoreRequest.of(f.reader, regions, BACKGROUND, x -> {}), false));
                assertTrue(e.getMessage().startsWith(f.file + ": cannot set up userfaultfd: UFFDIO_REGISTER failed"),
                        e.getMessage());
                Held.assertBack(before, regions);
                for (HostRegion r : regions) {
                    assertFalse(registered(r), r + " is still registered");
                }
            } finally {
                Libc.close(fd);
            }
        }
    }

    @Test
    void aRefusedStartOfThePolicyTaskOrALoaderFailsTheRestoreWithTheReasonAndLeavesNothingBehind() throws Exception {
        try (Fixture f = new Fixture(dir, 36, 2L << 20)) {
            warmUp(f);
            // 1: the fault service starts, the policy's task does not; 2: the policy's task starts, a loader does not.
            for (int accepted = 1; accepted <= 2; accepted++) {
                // Pages not loaded are protected (split mappings) after a failure, as they must be: not compared.
                Held before = Held.now(List.of());
                CompletableFuture<RestoreFailure> failure = new CompletableFuture<>();
                LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), BACKGROUND,
                        failure::complete).withLoaderThreads(1), false, new ProfileCache(), acceptingOnly(accepted), null, LoadSettings.DEFAULTS);
                try {
                    restore.resumed();
                    RestoreFailure reported = failure.get(10, TimeUnit.SECONDS);
                    String job = accepted == 1 ? "thaw-restore-policy" : "thaw-restore-loader-0";
                    assertTrue(reported.message().contains("cannot start " + job + ": "), reported.message());
                    assertThrows(ExecutionException.class, () -> restore.completion().get(10, TimeUnit.SECONDS));
                    assertEquals(RestoreStats.Phase.FAILED, restore.stats().phase());
                    restore.loadRemaining(); // returns: nothing to wait for
                } finally {
                    restore.close();
                }
                Held.assertBack(before, List.of());
                assertFalse(registered(f.hostRegions().getFirst()), "guest memory is still registered");
            }
        }
    }

    /** Flips a byte of region 0's bitmap in a Thaw file (its offset from the region table; docs/thaw-format.md). */
    private static void damageBitmap(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long table = b.getLong(32); // header: region table offset
        long bitmap = b.getLong((int) table + 32); // region 0: bitmap offset
        bytes[(int) bitmap] ^= 0x10;
        Files.write(file, bytes);
    }

    /** Flips a byte of the first snapshot-held page at or after {@code from}; returns the page. */
    private static long damagePage(Fixture f, long from) throws Exception {
        long victim = presentPage(f, from);
        byte[] file = Files.readAllBytes(f.file);
        byte[] page = f.expectedPage(victim).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        for (int at = 0; at + page.length <= file.length; at += Fixture.PAGE) {
            if (java.util.Arrays.equals(file, at, at + page.length, page, 0, page.length)) {
                file[at + 100] ^= (byte) 0xff;
                Files.write(f.file, file);
                return victim;
            }
        }
        throw new AssertionError("page " + victim + " not found in the file");
    }

    /** Runs {@code failing} (which fails a restore of {@code f}) and checks what the failure leaves. */
    private void assertFailureLeavesNothing(Fixture f, String expected, ThrowingBody failing) throws Exception {
        warmUp(f);
        Held before = Held.now(List.of());
        CompletableFuture<RestoreFailure> failure = new CompletableFuture<>();
        try (SnapshotReader reader = new ThawSnapshotFormat().open(f.file)) {
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(reader, f.hostRegions(), BACKGROUND,
                    failure::complete).withLoaderThreads(2), false);
            try {
                failing.run(restore);
                RestoreFailure reported = failure.get(30, TimeUnit.SECONDS);
                assertTrue(reported.message().contains(expected), reported.message());
                assertThrows(ExecutionException.class, () -> restore.completion().get(30, TimeUnit.SECONDS));
                assertEquals(RestoreStats.Phase.FAILED, restore.stats().phase());
            } finally {
                restore.close();
            }
            assertEquals(RestoreStats.Phase.FAILED, restore.stats().phase(), "closing a failed restore changes nothing");
        }
        Held.assertBack(before, List.of());
        for (HostRegion r : f.hostRegions()) {
            assertFalse(registered(r), r + " is still registered");
        }
    }

    interface ThrowingBody {
        void run(LazyRestoreImpl restore) throws Exception;
    }

    @Test
    void aBitmapDamagedAtItsFirstUseFailsTheRestoreAndLeavesNothingBehind() throws Exception {
        try (Fixture f = new Fixture(dir, 37, 4L << 20, 1L << 20)) {
            damageBitmap(f.file);
            assertFailureLeavesNothing(f, "bitmap", LazyRestoreImpl::resumed);
        }
    }

    @Test
    void aPageThatCannotBeReadFailsTheRestoreNamingItAndLeavesNothingBehind() throws Exception {
        try (Fixture f = new Fixture(dir, 38, 4L << 20, 1L << 20)) {
            long bad = damagePage(f, 300);
            assertFailureLeavesNothing(f, "page " + bad + " (region 0 page " + bad + ")", restore -> {
                restore.resumed(); // the loaders (up to 128 pages a read) find it
                restore.loadRemaining();
            });
        }
    }

    @Test
    void closeDuringLoadingAndCloseAgainLeaveNothingBehind() throws Exception {
        try (Fixture f = new Fixture(dir, 39, 32L << 20, 1L << 20)) {
            warmUp(f);
            Held before = Held.now(List.of());
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(), BACKGROUND,
                    x -> {}).withLoaderThreads(2), false);
            restore.resumed();
            restore.close();
            RestoreStats closed = restore.stats();
            assertEquals(RestoreStats.Phase.CLOSED, closed.phase());
            assertTrue(closed.loadedPages() < closed.presentPages(), "closed while loading: " + closed);
            Held.assertBack(before, List.of());
            restore.close();
            Held.assertBack(before, List.of());
            assertEquals(closed.loadedPages(), restore.stats().loadedPages());
            assertThrows(ExecutionException.class, () -> restore.completion().get(1, TimeUnit.SECONDS));
            for (HostRegion r : f.hostRegions()) {
                assertFalse(registered(r), r + " is still registered");
            }
        }
    }
}
