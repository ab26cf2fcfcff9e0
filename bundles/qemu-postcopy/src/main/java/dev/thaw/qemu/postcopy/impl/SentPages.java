package dev.thaw.qemu.postcopy.impl;

/**
 * Which pages the stream carries already, numbered across all blocks: each is taken once, by the sending thread,
 * which alone writes this (policy calls read it through {@link SourceView} while it waits for them). A page
 * taken is never taken again, so none is sent twice.
 */
final class SentPages {

    private final long pages;
    private final long[] bits;
    private long taken;

    SentPages(long pages) {
        this.pages = pages;
        this.bits = new long[Math.toIntExact((pages + 63) >>> 6)];
    }

    /** Takes {@code page} for sending; false if it was taken before. */
    boolean take(long page) {
        int w = (int) (page >>> 6);
        long bit = 1L << page;
        if ((bits[w] & bit) != 0) {
            return false;
        }
        bits[w] |= bit;
        taken++;
        return true;
    }

    boolean taken(long page) {
        return (bits[(int) (page >>> 6)] & (1L << page)) != 0;
    }

    /** The first page at or after {@code from} not taken; {@code pages} if none. */
    long nextFree(long from) {
        if (from >= pages) {
            return pages;
        }
        int w = (int) (from >>> 6);
        long word = ~bits[w] & (-1L << from);
        while (word == 0) {
            if (++w == bits.length) {
                return pages;
            }
            word = ~bits[w];
        }
        return Math.min(pages, ((long) w << 6) + Long.numberOfTrailingZeros(word));
    }

    boolean all() {
        return taken == pages;
    }
}
