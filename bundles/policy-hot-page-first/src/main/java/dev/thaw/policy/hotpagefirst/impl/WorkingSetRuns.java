package dev.thaw.policy.hotpagefirst.impl;

import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.policy.WorkingSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A working-set profile made ready for one restore, once at its start: runs in first-touch order,
 * clipped to memory and (with {@code skipZero}) split around pages not in the snapshot, plus an address
 * index so a fault finds its run in O(log runs) without allocating. A recorded profile holds each page
 * once, so its runs are disjoint; overlapping runs of a hand-made profile only make lookups miss.
 *
 * @param runs in first-touch order
 * @param outside profile pages beyond the end of memory, dropped
 * @param zeroPages profile pages not in the snapshot, left out
 */
record WorkingSetRuns(List<PageRange> runs, long[] firstByAddress, int[] orderByAddress, long outside, long zeroPages) {

    static final WorkingSetRuns NONE = new WorkingSetRuns(List.of(), new long[0], new int[0], 0, 0);

    static WorkingSetRuns of(WorkingSet profile, RestoreView restore, boolean skipZero) {
        long pageCount = restore.pageCount();
        long outside = 0;
        long zero = 0;
        List<PageRange> runs = new ArrayList<>();
        for (PageRange run : profile.runs()) {
            long end = run.first() >= pageCount ? run.first() : run.first() + Math.min(run.count(), pageCount - run.first());
            outside += run.count() - (end - run.first());
            long start = run.first();
            for (long page = start; skipZero && page < end; page++) {
                if (!restore.inSnapshot(page)) {
                    zero++;
                    if (page > start) {
                        runs.add(new PageRange(start, page - start));
                    }
                    start = page + 1;
                }
            }
            if (end > start) {
                runs.add(new PageRange(start, end - start));
            }
        }
        int[] order = java.util.stream.IntStream.range(0, runs.size()).boxed()
                .sorted((a, b) -> Long.compare(runs.get(a).first(), runs.get(b).first()))
                .mapToInt(Integer::intValue).toArray();
        long[] firsts = Arrays.stream(order).mapToLong(i -> runs.get(i).first()).toArray();
        return new WorkingSetRuns(List.copyOf(runs), firsts, order, outside, zero);
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
