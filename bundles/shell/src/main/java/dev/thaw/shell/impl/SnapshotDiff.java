package dev.thaw.shell.impl;

import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Which pages differ between two snapshots of one layout (any formats): region by region, as runs of pages.
 * A page absent from a file is zero there, so a present page of zeros equals an absent one.
 */
final class SnapshotDiff {

    /**
     * @param name the region's name in the first file (and in the second, after a slash, where it differs)
     * @param ranges runs of differing pages, {@code [first, count]}, in address order
     */
    record RegionDiff(String name, long pages, long differentPages, List<long[]> ranges) {}

    private SnapshotDiff() {}

    static List<RegionDiff> of(SnapshotReader a, SnapshotReader b) {
        checkSameLayout(a, b);
        List<RegionDiff> diffs = new ArrayList<>();
        for (int r = 0; r < a.regions().size(); r++) {
            diffs.add(region(a, b, r));
        }
        return diffs;
    }

    private static void checkSameLayout(SnapshotReader a, SnapshotReader b) {
        List<SnapshotRegion> ra = a.regions();
        List<SnapshotRegion> rb = b.regions();
        if (ra.size() != rb.size()) {
            throw new IllegalArgumentException(a.file() + " has " + ra.size() + " memory regions, " + b.file() + " has "
                    + rb.size() + ": not the same layout");
        }
        for (int i = 0; i < ra.size(); i++) {
            SnapshotRegion x = ra.get(i);
            SnapshotRegion y = rb.get(i);
            if (x.size() != y.size() || x.pageSize() != y.pageSize()) {
                throw new IllegalArgumentException("memory region " + i + " is " + x.name() + " (" + x.size() + " bytes, "
                        + x.pageSize() + " per page) in " + a.file() + " but " + y.name() + " (" + y.size() + " bytes, "
                        + y.pageSize() + " per page) in " + b.file() + ": not the same layout");
            }
        }
    }

    private static RegionDiff region(SnapshotReader a, SnapshotReader b, int r) {
        SnapshotRegion layout = a.regions().get(r);
        String nameB = b.regions().get(r).name();
        String name = layout.name().equals(nameB) ? layout.name() : layout.name() + "/" + nameB;
        int pageSize = layout.pageSize();
        long pages = layout.pages();
        Runs runs = new Runs();
        try (RegionChunks ca = new RegionChunks(a, r); RegionChunks cb = new RegionChunks(b, r)) {
            long step = ca.pagesPerChunk();
            for (long first = 0; first < pages; first += step) {
                long count = Math.min(step, pages - first);
                if (!anyPresent(a, b, r, first, count)) {
                    continue; // zero in both
                }
                MemorySegment x = ca.read(first, count);
                MemorySegment y = cb.read(first, count);
                for (long i = 0; i < count; i++) {
                    long at = i * pageSize;
                    if (MemorySegment.mismatch(x, at, at + pageSize, y, at, at + pageSize) >= 0) {
                        runs.add(first + i);
                    }
                }
            }
        }
        return new RegionDiff(name, pages, runs.total, runs.ranges);
    }

    private static boolean anyPresent(SnapshotReader a, SnapshotReader b, int r, long first, long count) {
        for (long p = first; p < first + count; p++) {
            if (a.isPresent(r, p) || b.isPresent(r, p)) {
                return true;
            }
        }
        return false;
    }

    /** Differing pages, in increasing order, merged into runs. */
    private static final class Runs {
        final List<long[]> ranges = new ArrayList<>();
        long total;

        void add(long page) {
            total++;
            long[] last = ranges.isEmpty() ? null : ranges.getLast();
            if (last != null && last[0] + last[1] == page) {
                last[1]++;
            } else {
                ranges.add(new long[] {page, 1});
            }
        }
    }
}
