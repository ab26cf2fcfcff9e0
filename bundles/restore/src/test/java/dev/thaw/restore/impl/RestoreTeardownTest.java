package dev.thaw.restore.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.linux.Libc;
import dev.thaw.testing.RequiresUserfaultfd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
                assertEquals(RestoreStats.Phase.LOADING, b.stats().phase());
                assertEquals(1, b.stats().faults(), b.stats().toString());
            } finally {
                b.close();
                fds.forEach(Libc::close);
            }
        }
    }
}
