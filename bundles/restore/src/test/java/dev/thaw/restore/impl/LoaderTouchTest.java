package dev.thaw.restore.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.linux.Libc;
import dev.thaw.support.profile.ProfileCache;
import dev.thaw.testing.RequiresUserfaultfd;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The background loaders' touch of each page they install (UffdCopier.touch), counted by the engine's test hook. */
@RequiresUserfaultfd
@Timeout(120)
class LoaderTouchTest {

    @TempDir
    Path dir;

    /** Loaders that copy 4 KiB pages in; whole huge pages have their own test (HugeRangesTest). */
    private static final LoadSettings PAGE_BY_PAGE = new LoadSettings(true, false);

    @Test
    void everyPageALoaderInstallsIsTouchedOnceAndNoOtherPageIs() throws Exception {
        try (Fixture f = new Fixture(dir, 61, 4L << 20, 2L << 20)) {
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    RestoreTeardownTest.BACKGROUND, x -> {}).withLoaderThreads(2), true, null, PAGE_BY_PAGE);
            try {
                // A fault before the vCPUs "run": served by the fault service alone, before any loader starts.
                long faulted = presentPage(f, 100);
                new Fixture.Toucher(f, dir.resolve("t"), List.of(faulted)).done.get(10, TimeUnit.SECONDS);
                restore.resumed();
                RestoreStats s = restore.completion().get(60, TimeUnit.SECONDS);
                assertEquals(RestoreStats.Phase.COMPLETE, s.phase());
                long touched = 0;
                for (long p = 0; p < f.pages; p++) {
                    int touches = restore.touches.get((int) p);
                    if (f.isZero(p) || p == faulted) {
                        assertEquals(0, touches, "page " + p + (p == faulted ? ", loaded for its fault," : ", a hole,")
                                + " touched by a loader");
                    } else {
                        assertEquals(1, restore.copies.get((int) p), "page " + p + " copies");
                        assertEquals(1, touches, "page " + p + " installed by a loader: touches (counted before the full load)");
                        touched++;
                    }
                }
                assertEquals(s.pagesBackground(), touched, "every page a loader loaded was touched: " + s);
            } finally {
                restore.close();
            }
            f.assertAllPagesEqual();
        }
    }

    @Test
    void withTouchingOffTheLoadersOnlyInstall() throws Exception {
        try (Fixture f = new Fixture(dir, 62, 4L << 20)) {
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    RestoreTeardownTest.BACKGROUND, x -> {}).withLoaderThreads(2), true, new ProfileCache(),
                    job -> Thread.ofPlatform().daemon().start(job), null, new LoadSettings(false, true));
            try {
                restore.resumed();
                RestoreStats s = restore.completion().get(60, TimeUnit.SECONDS);
                assertTrue(s.pagesBackground() > 0, s.toString());
                for (long p = 0; p < f.pages; p++) {
                    assertEquals(0, restore.touches.get((int) p), "page " + p);
                }
            } finally {
                restore.close();
            }
            f.assertAllPagesEqual();
        }
    }

    /**
     * The caller may give memory it cannot read (here: pages left inaccessible by an earlier restore that failed).
     * A native read of it would be a SIGSEGV, the end of the JVM: such pages are loaded, never touched.
     */
    @Test
    void memoryGivenWithoutReadAccessIsLoadedAndNotTouched() throws Exception {
        try (Fixture f = new Fixture(dir, 63, 2L << 20, 2L << 20)) {
            long protectedFrom = f.pages / 2 + 64; // region 1 from its 64th page on
            long protectedPages = f.pages - protectedFrom;
            Libc.mprotect(f.guestPage(protectedFrom).address(), protectedPages * Fixture.PAGE, Libc.PROT_NONE);
            LazyRestoreImpl restore = new LazyRestoreImpl(RestoreRequest.of(f.reader, f.hostRegions(),
                    RestoreTeardownTest.BACKGROUND, x -> {}).withLoaderThreads(2), true, null, PAGE_BY_PAGE);
            try {
                restore.resumed();
                assertEquals(RestoreStats.Phase.COMPLETE, restore.completion().get(60, TimeUnit.SECONDS).phase());
                for (long p = 0; p < f.pages; p++) {
                    boolean readable = p < protectedFrom;
                    assertEquals(readable && !f.isZero(p) ? 1 : 0, restore.touches.get((int) p), "page " + p);
                }
            } finally {
                restore.close();
            }
            Libc.mprotect(f.guestPage(protectedFrom).address(), protectedPages * Fixture.PAGE, Libc.PROT_READ | Libc.PROT_WRITE);
            f.assertAllPagesEqual();
        }
    }

    private static long presentPage(Fixture f, long from) {
        long p = from;
        while (f.isZero(p)) {
            p++;
        }
        return p;
    }
}
