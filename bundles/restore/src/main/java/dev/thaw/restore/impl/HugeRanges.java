package dev.thaw.restore.impl;

import dev.thaw.api.policy.PageRange;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.TransparentHugePages;
import dev.thaw.linux.Userfaultfd;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whole huge pages of guest memory loaded at once, wherever a range may be loaded so: by the background loaders, by
 * faults and by what faults prefetch, whatever the policy asked for of the range (a page of it put in alone would
 * leave the rest to be loaded page by page). A range's pages are read into a fresh mapping advised
 * {@code MADV_HUGEPAGE}, which the kernel backs
 * with one huge page, and that page is moved into guest memory whole ({@link UffdCopier#moveIn}, UFFDIO_MOVE).
 * UFFDIO_COPY installs 4 KiB pages only, and on a shadow-paging host each costs about 5 µs more at its first
 * touch; a huge page moved in is one page table entry for all its pages. docs/restore-figures.md ("Whole huge pages
 * in lazy loads") has the measurements.
 *
 * <p>A range is loaded whole only where it lies in one region at a huge-page-aligned host address and the snapshot
 * holds at least half its pages, so that its holes cost no more memory than its data; and only by a thread that
 * claimed every page of it, holes included ({@link #claim}): no page of it may be in before.
 */
final class HugeRanges {

    private static final Logger LOG = LoggerFactory.getLogger(HugeRanges.class);

    private final Pages pages;
    private final Claims claims;
    private final long bytes;
    /** Pages per huge page. */
    final int rangePages;

    private HugeRanges(Pages pages, Claims claims, long bytes) {
        this.pages = pages;
        this.claims = claims;
        this.bytes = bytes;
        this.rangePages = (int) (bytes >>> pages.shift);
    }

    /**
     * Whole huge-page loads for the guest memory of {@code pages}; null where anonymous memory gets no huge pages or
     * the kernel cannot move pages into a userfaultfd's range (UFFDIO_MOVE, Linux 6.8). The restore's userfaultfd
     * must then be opened with {@link Userfaultfd#UFFD_FEATURE_MOVE}.
     */
    static HugeRanges of(Pages pages, Claims claims) {
        long size = TransparentHugePages.anonymousSize();
        if (size <= pages.pageSize || Long.bitCount(size) != 1 || !Userfaultfd.offers(Userfaultfd.UFFD_FEATURE_MOVE)) {
            return null;
        }
        return new HugeRanges(pages, claims, size);
    }

    /**
     * Advises the guest memory {@code MADV_HUGEPAGE}, before it is registered: then a fault in a range not yet loaded
     * leaves no page table behind (the huge-page fault path hands it to the userfaultfd at once), so that the range
     * can still be moved in as one huge page. Without the advice, the move would split it into 4 KiB pages. The
     * memory keeps the advice after the restore, as boots and eager restores have it.
     */
    void advise() {
        for (int r = 0; r < pages.regions(); r++) {
            try {
                Libc.madvise(pages.host[r], pages.size[r], Libc.MADV_HUGEPAGE);
            } catch (ErrnoException e) {
                LOG.debug("region {}: no huge-page advice, faults split its huge pages: {}", r, e.getMessage());
            }
        }
    }

    /** The first page of the huge range holding {@code page} if that range may be loaded whole; -1 if not. */
    long rangeOf(long page) {
        int region = pages.regionOf(page);
        long address = pages.address(page);
        long start = address & -bytes;
        if (start < pages.host[region] || start + bytes > pages.host[region] + pages.size[region]) {
            return -1;
        }
        long first = page - ((address - start) >>> pages.shift);
        return held(first) * 2 >= rangePages ? first : -1;
    }

    /**
     * Claims every page of the range from {@code first} but {@code mine} (a page of it the caller claimed already, or
     * -1): true if this caller now holds them all. When another thread claimed one of them meanwhile, the pages
     * claimed here up to it stay claimed and are handed to {@code leftover} in runs of at most {@code maxRun} snapshot
     * pages, for the caller to load page by page: giving a snapshot page back could lose it, since a loader that saw
     * it claimed went past it. Holes are given back (no loader loads them; a fault waiting on one claims it then).
     */
    boolean claim(long first, long mine, int maxRun, Consumer<PageRange> leftover) {
        long end = first + rangePages;
        long p = first;
        while (p < end && (p == mine || claims.claim(p))) {
            p++;
        }
        if (p == end) {
            return true;
        }
        for (long q = first; q < p; ) {
            if (q == mine) {
                q++;
            } else if (!pages.present(q)) {
                claims.unclaim(q, 1);
                q++;
            } else {
                long r = q + 1;
                while (r < p && r != mine && r - q < maxRun && pages.present(r)) {
                    r++;
                }
                leftover.accept(new PageRange(q, r - q));
                q = r;
            }
        }
        return false;
    }

    /** The first page after the huge range that holds {@code page}. */
    long rangeEnd(long page) {
        long address = pages.address(page);
        return page + ((((address | (bytes - 1)) + 1) - address) >>> pages.shift);
    }

    /** How many pages of the range from {@code first} the snapshot holds. */
    long held(long first) {
        long held = 0;
        for (long p = first; p < first + rangePages; p++) {
            if (pages.present(p)) {
                held++;
            }
        }
        return held;
    }

    /**
     * Reads the claimed range from {@code first} (zeros for its holes) into a fresh huge page and moves it over guest
     * memory, waking its waiters. Returns how many of the range's pages the snapshot holds.
     *
     * @throws PageLoadException naming the first page that could not be read or put in
     */
    long fill(long first, UffdCopier copier) {
        // A fresh mapping each time, not a kept buffer: a kept one, once it held 4 KiB pages (a buffer zeroed when
        // allocated, a move the kernel split), keeps their page table, and every later read into it is 4 KiB pages.
        Mapping staging;
        try {
            staging = Mapping.alignedForThisThread(bytes, bytes, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_NORESERVE);
        } catch (ErrnoException e) {
            throw new PageLoadException(first, RunReader.pageName(pages, first) + ": no memory to stage a huge page in: "
                    + e.getMessage(), e);
        }
        try {
            try {
                Libc.madvise(staging.address(), bytes, Libc.MADV_HUGEPAGE);
            } catch (ErrnoException e) {
                // no huge page then: the pages still move, 4 KiB each
            }
            RunReader.read(pages, first, rangePages, staging.segment());
            copier.moveIn(first, rangePages, staging);
        } finally {
            staging.close(); // empty once moved
        }
        return held(first);
    }

    /** The bytes of {@code count} pages. */
    long bytesOf(long count) {
        return count << pages.shift;
    }
}
