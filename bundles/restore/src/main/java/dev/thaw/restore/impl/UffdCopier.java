package dev.thaw.restore.impl;

import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.UserTouch;
import dev.thaw.linux.Userfaultfd;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The restore's userfaultfd and every call made on it: register, read, copy, continue, zero, wake, and at the end
 * protect, unregister, close. Each call holds a lease on the fd ({@link SharedFd}): the fd is closed once,
 * after its last use, and a call after {@link #release} throws instead of reaching a reused number.
 *
 * <p>Ordering of the release: no lease begins from its start, and the calls in progress (a copy, a
 * loader's touch) end before anything changes; then pages not loaded are made inaccessible, then the memory
 * is unregistered, then the fd closed. Unregistering first would let a thread still touching guest memory,
 * or one woken from a fault by the unregister, read zero-fill where the snapshot has data.
 */
final class UffdCopier {

    private static final Logger LOG = LoggerFactory.getLogger(UffdCopier.class);

    /** How long the release waits for the calls in progress: each is one call, or one copy and its touch. */
    static final long RELEASE_WAIT_MILLIS = 5_000;

    private final Pages pages;
    private final Claims claims;
    private final Userfaultfd uffd;
    private final SharedFd fd;
    /** Test hooks: successful UFFDIO_COPY/CONTINUE/ZEROPAGE per page, and touches per page, when not null. */
    private final AtomicIntegerArray copies;
    private final AtomicIntegerArray touches;

    private UffdCopier(Pages pages, Claims claims, Userfaultfd uffd, AtomicIntegerArray copies, AtomicIntegerArray touches) {
        this.pages = pages;
        this.claims = claims;
        this.uffd = uffd;
        this.fd = new SharedFd("userfaultfd", uffd.fd(), uffd::close);
        this.copies = copies;
        this.touches = touches;
    }

    /**
     * A userfaultfd with {@code features} besides THREAD_ID and every region registered in {@code mode}
     * (the memory backend's); nothing is left behind when that fails.
     *
     * @throws ErrnoException naming the call that failed
     */
    static UffdCopier open(Pages pages, Claims claims, AtomicIntegerArray copies, AtomicIntegerArray touches, long features,
            long mode) {
        Userfaultfd uffd = Userfaultfd.open(Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        UffdCopier copier = new UffdCopier(pages, claims, uffd, copies, touches);
        int registered = 0;
        try {
            uffd.api(Userfaultfd.UFFD_FEATURE_THREAD_ID | features);
            for (; registered < pages.regions(); registered++) {
                uffd.register(pages.host[registered], pages.size[registered], mode);
            }
            return copier;
        } catch (RuntimeException e) {
            copier.unregister(registered);
            copier.fd.close();
            throw e;
        }
    }

    /** The fd, for poll, under a lease. */
    SharedFd fd() {
        return fd;
    }

    /** The fault messages queued now (at most {@code max}); none when none is. */
    List<Userfaultfd.Message> read(int max) {
        fd.acquire();
        try {
            return uffd.read(max);
        } finally {
            fd.release();
        }
    }

    /**
     * Copies {@code count} pages from {@code from} to claimed pages {@code [first, first+count)} (one
     * region), waking their waiters.
     *
     * @throws PageLoadException naming the first page not copied
     */
    void copy(long first, long count, MemorySegment from) {
        install(first, count, (dst, done, rest) -> uffd.copy(dst + done, from.address() + done, rest, 0));
    }

    /**
     * Maps the pages the guest memory's backing file holds (the shared page cache) over claimed pages
     * {@code [first, first+count)} (one region), waking their waiters (UFFDIO_CONTINUE).
     *
     * @throws PageLoadException naming the first page not mapped
     */
    void continuePages(long first, long count) {
        install(first, count, (dst, done, rest) -> uffd.continuePages(dst + done, rest, 0));
    }

    /**
     * Moves the pages of {@code staging}, which holds claimed pages {@code [first, first+count)} (one region, none of
     * them in yet), into guest memory (UFFDIO_MOVE: a huge page whole, one page table entry for all of them) and wakes
     * their waiters. The guest memory keeps its mapping, protection and registration. What cannot be moved (a
     * protection other than the staging's, a kernel that splits the huge page part way) is copied in from
     * {@code staging}, from where the move stopped.
     *
     * @throws PageLoadException naming the first page not put in
     */
    void moveIn(long first, long count, Mapping staging) {
        long dst = pages.address(first);
        long bytes = count << pages.shift;
        long from = staging.address();
        fd.acquire();
        try {
            long moved = 0;
            try {
                moved = uffd.move(dst, from, bytes, 0);
            } catch (Userfaultfd.RangeException e) {
                moved = e.completed();
                LOG.debug("pages {} to {}: copied in from page {}: {}", first, first + count - 1,
                        first + (moved >>> pages.shift), e.getMessage());
            }
            if (moved < bytes) {
                long done = moved >>> pages.shift;
                installLeased(first + done, count - done,
                        (at, d, rest) -> uffd.copy(at + d, from + (done << pages.shift) + d, rest, 0));
                count(copies, first, done);
                return;
            }
        } finally {
            fd.release();
        }
        count(copies, first, count);
    }

    /** One UFFDIO_COPY or UFFDIO_CONTINUE of the {@code rest} bytes from {@code done} on, of the range at {@code dst}. */
    private interface RangeCall {
        long call(long dst, long done, long rest);
    }

    private void install(long first, long count, RangeCall call) {
        fd.acquire();
        try {
            installLeased(first, count, call);
        } finally {
            fd.release();
        }
    }

    private void installLeased(long first, long count, RangeCall call) {
        long dst = pages.address(first);
        long bytes = count << pages.shift;
        long done = 0;
        while (done < bytes) {
            try {
                done += call.call(dst, done, bytes - done);
            } catch (Userfaultfd.RangeException e) {
                done += e.completed();
                if (e.alreadyExists()) {
                    // Present already (not for a claimed page, unless someone else mapped it): wake, skip.
                    wakeQuietly(dst + done);
                    done += pages.pageSize;
                } else if (e.wouldBlock()) {
                    Thread.onSpinWait();
                } else {
                    long bad = first + (done >>> pages.shift);
                    throw new PageLoadException(bad, "page " + bad + ": " + e.getMessage(), e);
                }
            }
        }
        count(copies, first, count);
    }

    /**
     * Reads each loaded page of {@code [first, first+count)} (one region) once from user space, in native code
     * ({@link UserTouch}), so that the guest does not pay for its first access; skipped once the release began.
     * The pages must be marked loaded: the release never protects those, and it waits for this lease before
     * it changes anything, so the memory stays readable for the whole touch. Memory the caller gave without
     * read access (it may be given anything) is left alone: a read of it would be a SIGSEGV in native code,
     * the end of the JVM.
     */
    void touch(long first, long count) {
        if (fd.tryAcquire() < 0) {
            return;
        }
        try {
            long address = pages.address(first);
            try {
                // The kernel's answer on readability (EINVAL for PROT_NONE, ENOMEM for a hole); it does not
                // count as the first access on a shadow-paging host, the read after it does.
                Libc.madvise(address, count << pages.shift, Libc.MADV_POPULATE_READ);
            } catch (ErrnoException e) {
                LOG.debug("pages {} to {} not touched: {}", first, first + count - 1, e.getMessage());
                return;
            }
            UserTouch.readEach(address, count, pages.pageSize);
        } finally {
            fd.release();
        }
        count(touches, first, count);
    }

    /**
     * Maps zero pages over {@code [first, first+count)} (one region), skipping present ones (waking their
     * waiters if {@code wakeIfPresent}); returns the bytes mapped. The pages count as loaded after.
     *
     * @throws PageLoadException naming the first page not mapped
     */
    long zero(long first, long count, boolean wakeIfPresent) {
        long start = pages.address(first);
        long bytes = count << pages.shift;
        long done = 0;
        long mapped = 0;
        fd.acquire();
        try {
            while (done < bytes) {
                try {
                    long n = uffd.zeropage(start + done, bytes - done, 0);
                    done += n;
                    mapped += n;
                } catch (Userfaultfd.RangeException e) {
                    done += e.completed();
                    mapped += e.completed();
                    if (e.alreadyExists()) {
                        if (wakeIfPresent) {
                            wakeQuietly(start + done);
                        }
                        done += pages.pageSize;
                    } else if (!e.wouldBlock()) {
                        long bad = first + (done >>> pages.shift);
                        throw new PageLoadException(bad, "page " + bad + ": " + e.getMessage(), e);
                    }
                }
            }
        } finally {
            fd.release();
        }
        if (mapped == bytes) {
            count(copies, first, count);
        }
        claims.markLoaded(first, count); // present now, by this call or an earlier one: stays accessible at release
        return mapped;
    }

    /** Wakes the threads waiting on {@code page} (one another thread copied in). */
    void wake(long page) {
        fd.acquire();
        try {
            wakeQuietly(pages.address(page));
        } finally {
            fd.release();
        }
    }

    private void wakeQuietly(long address) {
        try {
            uffd.wake(address, pages.pageSize);
        } catch (ErrnoException e) {
            LOG.debug("ignored: {}", e.getMessage());
        }
    }

    private static void count(AtomicIntegerArray hook, long first, long count) {
        if (hook != null) {
            for (long p = first; p < first + count; p++) {
                hook.incrementAndGet((int) p);
            }
        }
    }

    /**
     * Ends the restore's hold on guest memory (see the class comment for the order): protects the pages
     * not loaded if {@code protectUnloaded}, unregisters every region, closes the fd. Once only.
     */
    void release(boolean protectUnloaded) {
        if (fd.tryAcquire() < 0) {
            return; // released already
        }
        try {
            fd.close(); // no lease begins from now on; the fd stays open until this one ends
            if (!fd.awaitSoleLease(RELEASE_WAIT_MILLIS)) {
                LOG.warn("{}: calls on the userfaultfd still run after {} ms; releasing beside them", pages.reader.file(),
                        RELEASE_WAIT_MILLIS);
            }
            if (protectUnloaded) {
                protectUnloaded();
            }
            unregister(pages.regions());
        } finally {
            fd.release(); // the last lease: closes the fd (or a call still running does, when it ends)
        }
    }

    private void unregister(int regions) {
        for (int r = 0; r < regions; r++) {
            try {
                uffd.unregister(pages.host[r], pages.size[r]);
            } catch (ErrnoException e) {
                LOG.warn("region {}: {}", r, e.getMessage());
            }
        }
    }

    /**
     * Makes every snapshot-held page not loaded inaccessible (PROT_NONE): in runs that span the untouched
     * holes between such pages (fewer mappings to split), the whole region if a run cannot be protected
     * (e.g. too many mappings, or a bitmap that cannot be read). Pages loaded, holes mapped on a fault included, stay as they are.
     */
    private void protectUnloaded() {
        for (int r = 0; r < pages.regions(); r++) {
            try {
                protectUnloaded(pages.first[r], pages.first[r + 1]);
            } catch (RuntimeException e) { // mprotect, or the snapshot cannot say which pages it holds
                LOG.warn("{}: protecting region {} whole: {}", pages.reader.file(), r, e.getMessage());
                try {
                    Libc.mprotect(pages.host[r], pages.size[r], Libc.PROT_NONE);
                } catch (ErrnoException whole) {
                    LOG.error("{}: region {} cannot be protected; pages not loaded will read as zeros: {}",
                            pages.reader.file(), r, whole.getMessage());
                }
            }
        }
    }

    private void protectUnloaded(long from, long to) {
        for (long p = from; p < to; ) {
            if (!pages.present(p) || claims.loaded(p)) {
                p++;
                continue;
            }
            long end = p + 1; // one past the last unloaded snapshot page of the run
            for (long q = end; q < to && !claims.loaded(q); q++) {
                if (pages.present(q)) {
                    end = q + 1;
                }
            }
            Libc.mprotect(pages.address(p), (end - p) << pages.shift, Libc.PROT_NONE);
            p = end;
        }
    }
}
