package dev.thaw.restore.impl;

import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.SharedPageCache;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.Memfd;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot's pages in a memfd, for a fleet of restores (docs/shared-fleets.md). Page {@code p} (numbered
 * across regions, as {@link SnapshotPages} does) is at offset {@code p * pageSize}. Pages are read into a staging
 * buffer and written into it with pwrite (Thaw's own MAP_SHARED mapping, which no userfaultfd ever registers,
 * is for looking and removing); zero pages are never written (holes). Each page is claimed once fleet-wide ({@link Claims}: claimed, then loaded = cached),
 * so it is read and verified once; a page that fails stays failed, and everyone who needs it gets the
 * same failure.
 *
 * <p>The snapshot file must not change under the fleet ({@link SnapshotFileWatch}): each read is checked
 * before its pages are published; once the file changed in place, every page not yet cached fails.
 *
 * <p>Held by its owner and by each member restore ({@link #join}, {@link #leave}); the last to let go
 * unmaps and closes the memfd. The members' own private mappings of it keep its pages alive until they go.
 */
final class SharedPageCacheImpl implements SharedPageCache {

    private static final Logger LOG = LoggerFactory.getLogger(SharedPageCacheImpl.class);
    /** How long a waiter sleeps between looks at a page another thread reads (a notify ends it sooner). */
    private static final long WAIT_MILLIS = 10;
    /** Pages read at a time into the staging buffer on the way to the memfd: 512 KiB, a loader's chunk, in cache. */
    static final long STAGING_PAGES = 128;

    final SnapshotPages pages;
    private final Memfd memfd;
    /** The memfd under leases: a look at its size never reaches a file that reused its number. */
    private final SharedFd memfdLease;
    private final Mapping mapping;
    private final SnapshotFileWatch watch;
    private final Claims claims;
    private final Map<Long, PageLoadException> failures = new ConcurrentHashMap<>();
    private final AtomicLong cached = new AtomicLong();
    private final Object arrivals = new Object();
    /** The owner's hold (until close) plus one per member; 0 once released. */
    private final AtomicInteger holds = new AtomicInteger(1);
    private final AtomicBoolean ownerClosed = new AtomicBoolean();
    /** What members asked to have run once the cache holds every snapshot page (their restores complete then). */
    private final List<Runnable> whenComplete = new CopyOnWriteArrayList<>();

    /**
     * @throws RestoreException naming the file, if the file is not as its reader opened it, or the memfd or its
     *     mapping cannot be made (nothing is left then)
     */
    SharedPageCacheImpl(SnapshotReader reader) {
        this.pages = new SnapshotPages(reader);
        long bytes = pages.total() << pages.shift;
        String name = "thaw-cache:" + reader.file().getFileName();
        this.watch = new SnapshotFileWatch(reader);
        Memfd fd = null;
        try {
            fd = Memfd.create(name.substring(0, Math.min(name.length(), 200)), Memfd.MFD_CLOEXEC);
            fd.truncate(bytes);
            this.mapping = Mapping.file(fd.fd(), bytes, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_SHARED | Libc.MAP_NORESERVE, 0);
        } catch (RuntimeException e) {
            if (fd != null) {
                fd.close();
            }
            watch.close();
            throw new RestoreException(reader.file() + ": cannot set up a shared page cache of " + bytes + " bytes: "
                    + e.getMessage(), e);
        }
        this.memfd = fd;
        this.memfdLease = new SharedFd("shared page cache memfd", fd.fd(), fd::close);
        this.claims = new Claims(pages.total());
    }

    SnapshotReader reader() {
        return pages.reader;
    }

    /** The memfd's fd, to map it; valid while this caller holds the cache. */
    int fd() {
        return memfd.fd();
    }

    /** Where page {@code page} is in the memfd. */
    long offset(long page) {
        return page << pages.shift;
    }

    /** A member's hold; false (and none taken) once the owner closed the cache. */
    boolean join() {
        while (true) {
            int h = holds.get();
            if (h == 0 || ownerClosed.get()) {
                return false;
            }
            if (holds.compareAndSet(h, h + 1)) {
                return true;
            }
        }
    }

    /** Ends a member's hold (once per {@link #join}). */
    void leave() {
        drop();
    }

    @Override
    public void close() {
        if (ownerClosed.compareAndSet(false, true)) {
            drop();
        }
    }

    private void drop() {
        if (holds.decrementAndGet() == 0) {
            mapping.close();
            memfdLease.close();
            watch.close();
            LOG.debug("{}: shared page cache released", pages.reader.file());
        }
    }

    /** Who reads which page into the cache (claimed, then loaded = cached), fleet-wide: the members' loaders claim here. */
    Claims claims() {
        return claims;
    }

    /** Every snapshot-held page is in the cache. */
    boolean complete() {
        return cached.get() == pages.presentTotal;
    }

    /**
     * Runs {@code action} once the cache holds every snapshot page, on the thread that read the last of them (at
     * once if it holds them already), unless {@link #forget} came first: a member whose own loaders read nothing
     * (its policy loads nothing ahead) completes when the others filled the cache.
     */
    void whenComplete(Runnable action) {
        whenComplete.add(action);
        if (complete() && whenComplete.remove(action)) {
            action.run();
        }
    }

    /** {@code action} need not run any more. */
    void forget(Runnable action) {
        whenComplete.remove(action);
    }

    /**
     * Waits until the cache holds every snapshot-held page, reading those a failed run gave back.
     *
     * @param wanted false once the caller no longer needs them: it stops waiting
     * @throws PageLoadException for a page that failed, here or for another reader
     */
    void awaitComplete(BooleanSupplier wanted) {
        for (long p = 0; p < pages.total() && !complete(); p++) {
            if (pages.present(p)) {
                awaitCached(p, wanted);
            }
        }
    }

    /**
     * Makes sure snapshot-held pages {@code [first, first+count)} (one region) are in the cache: reads those
     * nobody has claimed (in runs), then waits for those others read. Returns the bytes this call read.
     *
     * @param wanted false once the caller no longer needs the pages (its restore ended): it stops waiting
     * @throws PageLoadException for the first page of the run that failed, here or for another reader
     */
    long ensure(long first, long count, BooleanSupplier wanted) {
        long end = first + count;
        long read = 0;
        for (long p = first; p < end; ) {
            if (claims.loaded(p) || !claims.claim(p)) {
                p++;
                continue;
            }
            long q = p + 1;
            while (q < end && claims.claim(q)) {
                q++;
            }
            read += readIn(p, q - p);
            p = q;
        }
        for (long p = first; p < end; p++) {
            awaitCached(p, wanted);
        }
        return read;
    }

    private void awaitCached(long page, BooleanSupplier wanted) {
        while (!claims.loaded(page)) {
            PageLoadException failed = failures.get(page);
            if (failed != null) {
                throw new PageLoadException(page, failed.getMessage(), failed.getCause());
            }
            if (claims.claim(page)) { // given back by a run that failed before it
                readIn(page, 1);
                continue;
            }
            if (!wanted.getAsBoolean()) {
                throw new PageLoadException(page, "page " + page + ": the restore ended while it was read", null);
            }
            synchronized (arrivals) {
                if (!claims.loaded(page) && !failures.containsKey(page)) {
                    try {
                        arrivals.wait(WAIT_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new PageLoadException(page, "page " + page + ": interrupted while it was read", e);
                    }
                }
            }
        }
    }

    /**
     * Reads snapshot-held pages {@code [first, first+count)} (one region), claimed with {@link #claims()}, into the
     * cache; returns the bytes read.
     * Ordering: the file
     * is checked after the read and before the pages are published ({@link #arrived}): a writer changes the
     * file's size or mtime before its bytes can be read, so bytes read before a check that finds the file as
     * opened are the snapshot's.
     */
    long readIn(long first, long count) {
        try {
            String changed = watch.changed();
            if (changed != null) {
                throw changedUnder(first, changed, null);
            }
            try {
                readThroughStaging(first, count);
            } catch (PageLoadException e) {
                changed = watch.afterRead();
                throw changed == null ? e : changedUnder(first, changed, e); // none of the run's bytes is the snapshot's
            }
            changed = watch.afterRead();
            if (changed != null) {
                throw changedUnder(first, changed, null);
            }
            arrived(first, count);
            return count << pages.shift;
        } catch (PageLoadException e) {
            long bad = e.page();
            failures.put(bad, e);
            arrived(first, bad - first); // read alone and verified before the bad one was found
            // No unverified bytes stay in the cache; the pages after the bad one go back to be claimed again.
            long after = first + count - bad;
            try {
                Libc.madvise(mapping.address() + offset(bad), after << pages.shift, Libc.MADV_REMOVE);
            } catch (ErrnoException removeFailed) {
                LOG.warn("{}: {}", pages.reader.file(), removeFailed.getMessage());
            }
            claims.unclaim(bad + 1, after - 1);
            synchronized (arrivals) {
                arrivals.notifyAll();
            }
            throw e;
        }
    }

    /**
     * Reads the run into this thread's staging buffer, piece by piece, and writes each piece into the memfd. Not
     * straight into Thaw's mapping of it: there each new page would be faulted in from user space, which costs 10
     * to 20 us a page on machines with shadow paging (ENVIRONMENT.md); pwrite fills the memfd's pages in the
     * kernel. The pages before a bad one are written before the failure goes on.
     */
    private void readThroughStaging(long first, long count) {
        MemorySegment staging = Staging.of(Math.min(STAGING_PAGES, count) << pages.shift, pages.pageSize);
        for (long done = 0; done < count;) {
            long n = Math.min(STAGING_PAGES, count - done);
            MemorySegment stage = staging.asSlice(0, n << pages.shift);
            try {
                RunReader.read(pages, first + done, n, stage);
            } catch (PageLoadException e) {
                write(stage, first + done, e.page() - (first + done));
                throw e;
            }
            write(stage, first + done, n);
            done += n;
        }
    }

    /** Writes {@code count} pages from {@code stage} into the memfd at page {@code page}. */
    private void write(MemorySegment stage, long page, long count) {
        long bytes = count << pages.shift;
        int fd = memfdLease.tryAcquire();
        if (fd < 0) {
            throw new PageLoadException(page, "page " + page + ": the restore ended while it was read", null);
        }
        try {
            for (long written = 0; written < bytes;) {
                written += Libc.pwrite(fd, stage.asSlice(written, bytes - written), offset(page) + written);
            }
        } catch (ErrnoException e) {
            throw new PageLoadException(page, RunReader.pageName(pages, page) + ": cannot be put in the shared page cache: "
                    + e.getMessage(), e);
        } finally {
            memfdLease.release();
        }
    }

    private PageLoadException changedUnder(long page, String line, Throwable cause) {
        return new PageLoadException(page, RunReader.pageName(pages, page) + ": " + line, cause);
    }

    private void arrived(long first, long count) {
        if (count > 0) {
            try {
                // Mapped in Thaw's own view too, so that the process's PSS shows the cache whole: a member maps only
                // the pages its guest touches. The kernel maps them here; no first touch from user space is paid.
                Libc.madvise(mapping.address() + offset(first), count << pages.shift, Libc.MADV_POPULATE_READ);
            } catch (ErrnoException e) {
                LOG.debug("{}: cached pages {} to {} not mapped in the cache's view: {}", pages.reader.file(), first,
                        first + count - 1, e.getMessage());
            }
            claims.markLoaded(first, count);
            if (cached.addAndGet(count) == pages.presentTotal) {
                for (Runnable action : whenComplete) {
                    if (whenComplete.remove(action)) {
                        action.run();
                    }
                }
            }
            synchronized (arrivals) {
                arrivals.notifyAll();
            }
        }
    }

    /** Test hook: page {@code page} as the cache holds it (only pages cached: a look at a hole would fill it). */
    MemorySegment cachedPage(long page) {
        if (!claims.loaded(page)) {
            throw new IllegalStateException("page " + page + " is not cached");
        }
        return mapping.segment().asSlice(offset(page), pages.pageSize);
    }

    @Override
    public Path file() {
        return pages.reader.file();
    }

    @Override
    public long presentPages() {
        return pages.presentTotal;
    }

    @Override
    public long cachedPages() {
        return cached.get();
    }

    @Override
    public long residentBytes() {
        if (memfdLease.tryAcquire() < 0) {
            return 0; // released: its pages are the members' mappings' now
        }
        try {
            return memfd.allocatedBytes();
        } finally {
            memfdLease.release();
        }
    }

    @Override
    public Optional<String> problem() {
        return watch.problem();
    }

    @Override
    public int members() {
        int h = holds.get();
        return h == 0 ? 0 : h - (ownerClosed.get() ? 0 : 1);
    }
}
