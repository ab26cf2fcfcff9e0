package dev.thaw.restore.impl;

import dev.thaw.api.snapshot.SnapshotReader;
import java.lang.foreign.MemorySegment;

/** Loads claimed snapshot pages: reads them into a staging buffer, copies them in, counts them. */
final class PageLoader {

    private final LazyRestoreImpl restore;
    private final SnapshotReader reader;
    private final Pages pages;
    private final Claims claims;
    private final UffdCopier copier;
    private final Figures figures;

    PageLoader(LazyRestoreImpl restore, Pages pages, Claims claims, UffdCopier copier, Figures figures) {
        this.restore = restore;
        this.reader = pages.reader;
        this.pages = pages;
        this.claims = claims;
        this.copier = copier;
        this.figures = figures;
    }

    /**
     * Reads claimed snapshot pages {@code [first, first+count)} (one region) into {@code staging} and copies
     * them in, waking waiters. False if the restore failed (the failure is reported, naming the page).
     */
    boolean load(long first, long count, MemorySegment staging) {
        try {
            MemorySegment buffer = read(first, count, staging);
            copier.copy(first, count, buffer);
        } catch (PageLoadException e) {
            restore.fail(e.page(), e.getMessage(), e.getCause());
            return false;
        }
        claims.markLoaded(first, count);
        if (figures.loaded(count)) {
            restore.maybeComplete();
        }
        return true;
    }

    private MemorySegment read(long first, long count, MemorySegment staging) {
        int region = pages.regionOf(first);
        long regionPage = first - pages.first[region];
        long bytes = count << pages.shift;
        MemorySegment buffer = staging.asSlice(0, bytes);
        figures.loading();
        try {
            reader.readPages(region, regionPage, count, buffer);
        } catch (RuntimeException e) {
            long bad = first + badPage(region, regionPage, count, buffer);
            throw new PageLoadException(bad, "page " + bad + " (region " + region + " page " + (bad - pages.first[region])
                    + "): " + e.getMessage(), e);
        }
        figures.read(bytes);
        return buffer;
    }

    /**
     * Which page of a failed read of {@code count} pages fails (the first one that does, read alone), as
     * an offset in the run: any format's reader can say so this way. 0 when each page reads alone.
     */
    private long badPage(int region, long regionPage, long count, MemorySegment buffer) {
        for (long i = 0; count > 1 && i < count; i++) {
            try {
                reader.readPages(region, regionPage + i, 1, buffer.asSlice(i << pages.shift, pages.pageSize));
            } catch (RuntimeException e) {
                return i;
            }
        }
        return 0;
    }
}
