package dev.thaw.restore.impl;

import java.lang.foreign.MemorySegment;

/**
 * Reads a run of snapshot-held pages (one region) through the snapshot's reader, which verifies them; a
 * failed read names its first bad page, found by reading the run's pages alone. Into a restore's staging
 * buffer ({@link AnonymousBackend}) or into the shared page cache ({@link SharedPageCacheImpl}).
 */
final class RunReader {

    private RunReader() {}

    /**
     * Reads pages {@code [first, first+count)} into {@code target} ({@code count} pages long).
     *
     * @throws PageLoadException naming the first page that fails; the pages before it are in {@code target}
     */
    static void read(SnapshotPages pages, long first, long count, MemorySegment target) {
        int region = pages.regionOf(first);
        long regionPage = first - pages.first[region];
        try {
            pages.reader.readPages(region, regionPage, count, target);
        } catch (RuntimeException e) {
            long bad = first + badPage(pages, region, regionPage, count, target);
            throw new PageLoadException(bad, pageName(pages, bad) + ": " + e.getMessage(), e);
        }
    }

    /** {@code page N (region R page P)}, as failures name a page. */
    static String pageName(SnapshotPages pages, long page) {
        int region = pages.regionOf(page);
        return "page " + page + " (region " + region + " page " + (page - pages.first[region]) + ")";
    }

    /**
     * Which page of a failed read of {@code count} pages fails (the first one that does, read alone), as
     * an offset in the run: any format's reader can say so this way. 0 when each page reads alone.
     */
    private static long badPage(SnapshotPages pages, int region, long regionPage, long count, MemorySegment target) {
        for (long i = 0; count > 1 && i < count; i++) {
            try {
                pages.reader.readPages(region, regionPage + i, 1, target.asSlice(i << pages.shift, pages.pageSize));
            } catch (RuntimeException e) {
                return i;
            }
        }
        return 0;
    }
}
