package dev.thaw.restore.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreFailure;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.restore.impl.SharedFleetTest.Guest;
import dev.thaw.testing.RequiresUserfaultfd;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot file changed under a shared fleet of two members that load pages only on demand (no policy, no
 * loaders), so the pages they touch after the change are read after it (docs/shared-fleets.md, "The snapshot
 * file under a fleet"): a file changed in place fails every page not yet cached with one line, never giving a
 * member bytes read after the change; a file replaced at its path is reported, and the fleet reads on from the
 * file it opened.
 */
@RequiresUserfaultfd
@Timeout(120)
class SharedFleetFileChangeTest {

    static final int PAGE = Fixture.PAGE;

    @TempDir
    Path dir;

    /** A fleet of two on-demand members over one cache of a fresh reader of {@code f}'s file. */
    private final class Fleet implements AutoCloseable {
        final SnapshotReader reader;
        final SharedPageCacheImpl cache;
        final List<Guest> guests = new ArrayList<>();
        final List<LazyRestoreImpl> restores = new ArrayList<>();
        final List<CompletableFuture<RestoreFailure>> failures = new ArrayList<>();
        private int touches;

        Fleet(Fixture f) {
            reader = new ThawSnapshotFormat().open(f.file);
            cache = new SharedPageCacheImpl(reader);
            for (int i = 0; i < 2; i++) {
                Guest g = new Guest(f);
                guests.add(g);
                CompletableFuture<RestoreFailure> failure = new CompletableFuture<>();
                failures.add(failure);
                restores.add(new LazyRestoreImpl(RestoreRequest.of(reader, g.hostRegions(), new NonePolicy(),
                        failure::complete).withLoaderThreads(0).withProfile(ProfileMode.IGNORE), false, cache));
            }
            restores.forEach(LazyRestoreImpl::resumed);
        }

        /** Member {@code i} reads page {@code page} (8 bytes of it, through write(2)); returns those bytes. */
        byte[] touch(int i, long page) throws Exception {
            Path out = dir.resolve("touch-" + touches++);
            Fixture.Toucher t = new Fixture.Toucher(guests.get(i)::page, out, List.of(page), new CountDownLatch(0));
            t.done.get(30, TimeUnit.SECONDS);
            return Files.readAllBytes(out);
        }

        /** Member {@code i}'s touch of {@code page} fails (EFAULT: never zeros), and its restore with {@code line}. */
        void assertFails(int i, long page, String line) throws Exception {
            Fixture.Toucher t = new Fixture.Toucher(guests.get(i)::page, dir.resolve("touch-" + touches++), List.of(page),
                    new CountDownLatch(0));
            ExecutionException e = assertThrows(ExecutionException.class, () -> t.done.get(30, TimeUnit.SECONDS),
                    "member " + i + " never reads page " + page);
            assertEquals(Errno.EFAULT, assertInstanceOf(ErrnoException.class, e.getCause()).errno());
            RestoreFailure failure = failures.get(i).get(30, TimeUnit.SECONDS);
            assertEquals(reader.file() + ": lazy restore stopped: page " + page + " (region 0 page " + page + "): " + line,
                    failure.message());
            assertEquals(page, failure.page());
            assertEquals(RestoreStats.Phase.FAILED, restores.get(i).stats().phase());
        }

        @Override
        public void close() {
            restores.forEach(LazyRestoreImpl::close);
            cache.close();
            guests.forEach(Guest::close);
            reader.close();
        }
    }

    /** The first {@code n} present pages of {@code f}. */
    private static List<Long> present(Fixture f, int n) {
        List<Long> pages = new ArrayList<>();
        for (long p = 0; p < f.pages && pages.size() < n; p++) {
            if (!f.isZero(p)) {
                pages.add(p);
            }
        }
        return pages;
    }

    /** The 8 bytes a toucher of {@code page} writes out: the snapshot's. */
    private static byte[] expected(Fixture f, long page) {
        return f.expectedPage(page).asSlice(8 * (page % 500), 8).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Where page {@code page}'s bytes are in the snapshot file. */
    private static long offsetInFile(Fixture f, long page) throws Exception {
        int at = LazyRestoreTest.indexOf(Files.readAllBytes(f.file), f.expectedPage(page).toArray(ValueLayout.JAVA_BYTE));
        assertTrue(at > 0, "page " + page + " found in the file");
        return at;
    }

    @Test
    void aFileTruncatedUnderTheFleetFailsEveryPageNotYetCachedWithOneLine() throws Exception {
        try (Fixture f = new Fixture(dir, 51, 2L << 20); Fleet fleet = new Fleet(f)) {
            List<Long> p = present(f, 3);
            long cached = p.get(0);
            long next = p.get(1);
            long later = p.get(2);
            assertArrayEquals(expected(f, cached), fleet.touch(0, cached));
            assertEquals(Optional.empty(), fleet.cache.problem());
            long size = Files.size(f.file);
            // Cut the file's end only: the pages touched next are still there, with their bytes, in the file.
            long cut = Math.max(offsetInFile(f, later), offsetInFile(f, next)) + PAGE;
            try (FileChannel ch = FileChannel.open(f.file, StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            String line = f.file + " was truncated from " + size + " to " + cut
                    + " bytes under its shared fleet; pages not yet in the fleet's cache fail";

            assertArrayEquals(expected(f, cached), fleet.touch(1, cached), "a page cached before the change stays valid");
            fleet.assertFails(1, next, line);
            assertEquals(Optional.of(line), fleet.cache.problem());
            fleet.assertFails(0, later, line);
            assertEquals(1, fleet.cache.cachedPages(), "nothing read after the change was cached");
            assertFalse(line.contains("\n"));
        }
    }

    @Test
    void aPageRewrittenInPlaceUnderTheFleetFailsEveryPageNotYetCachedWithOneLine() throws Exception {
        try (Fixture f = new Fixture(dir, 52, 2L << 20); Fleet fleet = new Fleet(f)) {
            List<Long> p = present(f, 3);
            long cached = p.get(0);
            long next = p.get(1);
            long rewritten = p.get(2);
            assertArrayEquals(expected(f, cached), fleet.touch(0, cached));
            long size = Files.size(f.file);
            // Another page than the one read next: its bytes, and its checksum, are as they were.
            try (FileChannel ch = FileChannel.open(f.file, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[PAGE]), offsetInFile(f, rewritten));
            }
            assertEquals(size, Files.size(f.file));
            String line = f.file + " was modified (its mtime changed, its size did not) under its shared fleet;"
                    + " pages not yet in the fleet's cache fail";

            fleet.assertFails(0, next, line);
            assertEquals(Optional.of(line), fleet.cache.problem());
            assertArrayEquals(expected(f, cached), fleet.touch(1, cached), "a page cached before the change stays valid");
            fleet.assertFails(1, rewritten, line);
            assertEquals(1, fleet.cache.cachedPages());
        }
    }

    @Test
    void aFileReplacedAtItsPathIsReportedAndTheFleetReadsOnFromTheFileItOpened() throws Exception {
        try (Fixture f = new Fixture(dir, 53, 2L << 20); Fixture other = new Fixture(dir, 54, 2L << 20);
                Fleet fleet = new Fleet(f)) {
            List<Long> p = present(f, 40);
            assertArrayEquals(expected(f, p.getFirst()), fleet.touch(0, p.getFirst()));
            Files.move(other.file, f.file, StandardCopyOption.REPLACE_EXISTING); // another snapshot, as large
            String line = f.file + " was replaced at its path; the fleet reads the snapshot it opened";

            for (long page : p) {
                assertArrayEquals(expected(f, page), fleet.touch(1, page), "member 1, page " + page);
                assertArrayEquals(expected(f, page), fleet.touch(0, page), "member 0, page " + page);
            }
            assertEquals(Optional.of(line), fleet.cache.problem());
            assertEquals(p.size(), fleet.cache.cachedPages());
            assertFalse(fleet.failures.get(0).isDone() || fleet.failures.get(1).isDone(), "no member failed");

            Files.delete(f.file);
            assertEquals(Optional.of(f.file + " was removed from its path; the fleet reads the snapshot it opened"),
                    fleet.cache.problem());
        }
    }

    @Test
    void aFileChangedOrReplacedBetweenItsReadersOpenAndTheCachesIsRefusedWithOneLine() throws Exception {
        try (Fixture f = new Fixture(dir, 55, 1L << 20); Fixture other = new Fixture(dir, 56, 1L << 20)) {
            try (SnapshotReader reader = new ThawSnapshotFormat().open(f.file)) {
                try (FileChannel ch = FileChannel.open(f.file, StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.wrap(new byte[] {1}), offsetInFile(f, present(f, 1).getFirst()));
                }
                RestoreException e = assertThrows(RestoreException.class, () -> new SharedPageCacheImpl(reader));
                assertEquals(f.file + ": was modified (its mtime changed, its size did not) after it was opened;"
                        + " open it again", e.getMessage());
            }
            try (SnapshotReader reader = new ThawSnapshotFormat().open(f.file)) {
                Files.move(other.file, f.file, StandardCopyOption.REPLACE_EXISTING);
                RestoreException e = assertThrows(RestoreException.class, () -> new SharedPageCacheImpl(reader));
                assertEquals(f.file + ": was replaced at its path after it was opened; a shared fleet must hold the"
                        + " file its reader reads (open it again)", e.getMessage());
            }
        }
    }
}
