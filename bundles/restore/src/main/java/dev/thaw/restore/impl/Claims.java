package dev.thaw.restore.impl;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Two bitmaps over all pages: claimed (someone loads or loaded the page, or maps it as a zero page; set
 * once, by exactly one thread, or given back) and loaded (the page is present in guest memory). Holes are
 * claimed too: a background loader that loads a huge page whole ({@link HugeRanges}) needs every page of it.
 */
final class Claims {

    private final AtomicLongArray claimed;
    private final AtomicLongArray loaded;

    Claims(long pages) {
        int words = (int) ((pages + 63) >>> 6);
        claimed = new AtomicLongArray(words);
        loaded = new AtomicLongArray(words);
    }

    /** Claims {@code page}; true if this caller got it. */
    boolean claim(long page) {
        return set(claimed, page);
    }

    /** Gives claimed pages {@code [first, first+count)} back, to be claimed again (their load failed, or they are holes a whole claim took). */
    void unclaim(long first, long count) {
        for (long p = first; p < first + count; p++) {
            long bit = 1L << p;
            claimed.getAndUpdate((int) (p >>> 6), w -> w & ~bit);
        }
    }

    boolean claimed(long page) {
        return (claimed.get((int) (page >>> 6)) & (1L << page)) != 0;
    }

    void markLoaded(long first, long count) {
        for (long p = first; p < first + count; p++) {
            set(loaded, p);
        }
    }

    boolean loaded(long page) {
        return (loaded.get((int) (page >>> 6)) & (1L << page)) != 0;
    }

    private static boolean set(AtomicLongArray bits, long page) {
        int w = (int) (page >>> 6);
        long bit = 1L << page;
        while (true) {
            long old = bits.get(w);
            if ((old & bit) != 0) {
                return false;
            }
            if (bits.compareAndSet(w, old, old | bit)) {
                return true;
            }
        }
    }
}
