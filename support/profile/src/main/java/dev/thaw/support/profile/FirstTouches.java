package dev.thaw.support.profile;

import dev.thaw.api.policy.PageRange;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * The log a working-set profile is made of: each page the first time it is touched, in that order; touching it
 * again logs nothing. Not thread-safe: its owner synchronizes on it (the fault threads of a restore, the return
 * path of a postcopy source, and whoever saves the profile meanwhile).
 */
public final class FirstTouches {

    private final BitSet touched = new BitSet();
    private long[] order = new long[1024];
    private int count;

    /** Logs {@code page} (numbered across all regions) if this is its first touch; true if it was. */
    public boolean touch(long page) {
        int index = Math.toIntExact(page);
        if (touched.get(index)) {
            return false;
        }
        touched.set(index);
        if (count == order.length) {
            order = Arrays.copyOf(order, count * 2);
        }
        order[count++] = page;
        return true;
    }

    /** Distinct pages touched so far. */
    public int count() {
        return count;
    }

    /** The pages in first-touch order, merged into runs as the profile stores them ({@link Profiles#runs}). */
    public List<PageRange> runs() {
        return Profiles.runs(order, count);
    }
}
