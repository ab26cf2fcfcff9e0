package dev.thaw.policy.hotpagefirst.impl;

import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.policy.WorkingSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A working-set profile made ready for one restore, once at its start: runs in first-touch order,
 * clipped to memory, (with {@code skipZero}) split around pages not in the snapshot, and merged where
 * they meet (see {@link #mergeAdjacent}), plus an address
 * index so a fault finds its run in O(log runs) without allocating. A recorded profile holds each page
 * once, so its runs are disjoint; overlapping runs of a hand-made profile only make lookups miss.
 *
 * @param runs in first-touch order
 * @param outside profile pages beyond the end of memory, dropped
 * @param zeroPages profile pages not in the snapshot, left out
 */
record WorkingSetRuns(List<PageRange> runs, long[] firstByAddress, int[] orderByAddress, long outside, long zeroPages) {

    static final WorkingSetRuns NONE = new WorkingSetRuns(List.of(), new long[0], new int[0], 0, 0);
    /** Low bits of a sort key that hold a run's index: profiles of up to 2^24 runs, pages below 2^39. */
    private static final int INDEX_BITS = 24;
    private static final int MAX_RUNS = (1 << INDEX_BITS) - 1;

    static WorkingSetRuns of(WorkingSet profile, RestoreView restore, boolean skipZero) {
        long pageCount = restore.pageCount();
        long outside = 0;
        long zero = 0;
        List<PageRange> split = new ArrayList<>();
        for (PageRange run : profile.runs()) {
            if (split.size() >= MAX_RUNS) { // 64 GiB of one-page runs: the rest is loaded like any other memory
                outside += run.count();
                continue;
            }
            long end = run.first() >= pageCount ? run.first() : run.first() + Math.min(run.count(), pageCount - run.first());
            outside += run.count() - (end - run.first());
            long start = run.first();
            for (long page = start; skipZero && page < end; page++) {
                if (!restore.inSnapshot(page)) {
                    zero++;
                    if (page > start) {
                        split.add(new PageRange(start, page - start));
                    }
                    start = page + 1;
                }
            }
            if (end > start) {
                split.add(new PageRange(start, end - start));
            }
        }
        List<PageRange> runs = mergeAdjacent(split);
        int[] order = byAddress(runs);
        long[] firsts = new long[order.length];
        for (int k = 0; k < order.length; k++) {
            firsts[k] = runs.get(order[k]).first();
        }
        return new WorkingSetRuns(runs, firsts, order, outside, zero);
    }

    /**
     * Indexes of {@code runs} in address order. A primitive sort of (first page, index) pairs packed in
     * one long: this runs when a restore starts, on profiles of tens of thousands of runs.
     */
    private static int[] byAddress(List<PageRange> runs) {
        long[] keys = new long[runs.size()];
        for (int k = 0; k < keys.length; k++) {
            keys[k] = runs.get(k).first() << INDEX_BITS | k;
        }
        Arrays.sort(keys);
        int[] order = new int[keys.length];
        for (int k = 0; k < keys.length; k++) {
            order[k] = (int) (keys[k] & ((1L << INDEX_BITS) - 1));
        }
        return order;
    }

    /**
     * Runs that meet in memory become one, placed where its earliest-touched part was: a guest that
     * touches a block in random order leaves thousands of one-page runs, and one long run loads in
     * big copies many times faster than its pages one by one.
     */
    static List<PageRange> mergeAdjacent(List<PageRange> runs) {
        int[] byAddress = byAddress(runs);
        List<PageRange> merged = new ArrayList<>();
        List<Integer> ranks = new ArrayList<>();
        for (int i : byAddress) {
            PageRange r = runs.get(i);
            int last = merged.size() - 1;
            if (last >= 0 && merged.get(last).end() == r.first()) {
                merged.set(last, new PageRange(merged.get(last).first(), merged.get(last).count() + r.count()));
                ranks.set(last, Math.min(ranks.get(last), i));
            } else {
                merged.add(r);
                ranks.add(i);
            }
        }
        long[] keys = new long[merged.size()];
        for (int k = 0; k < keys.length; k++) {
            keys[k] = (long) ranks.get(k) << INDEX_BITS | k;
        }
        Arrays.sort(keys);
        List<PageRange> out = new ArrayList<>(keys.length);
        for (long key : keys) {
            out.add(merged.get((int) (key & ((1L << INDEX_BITS) - 1))));
        }
        return List.copyOf(out);
    }

    /** The first-touch index of the run holding {@code page}, or -1. */
    int indexOf(long page) {
        int at = Arrays.binarySearch(firstByAddress, page);
        int candidate = at >= 0 ? at : -at - 2;
        if (candidate < 0) {
            return -1;
        }
        int index = orderByAddress[candidate];
        return runs.get(index).contains(page) ? index : -1;
    }
}
