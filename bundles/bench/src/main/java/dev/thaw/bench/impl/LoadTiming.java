package dev.thaw.bench.impl;

/**
 * A load's two times, in milliseconds from its start: to every page present ({@code bareMs}, null where
 * loading and touching are one, as in QEMU's reads), and to every page present and touched once from user
 * space ({@code touchedMs}). On a shadow-paging host the first access to a page a load installed costs
 * about 5 µs whoever makes it, so a load that only installs pages would leave that to the guest: rows
 * count to touched.
 */
record LoadTiming(Double bareMs, double touchedMs) {

    static LoadTiming of(long startNanos, long loadedNanos, long touchedNanos) {
        return new LoadTiming((loadedNanos - startNanos) / 1e6, (touchedNanos - startNanos) / 1e6);
    }

    /** A load whose reads touch every page (QEMU's). */
    static LoadTiming touching(double ms) {
        return new LoadTiming(null, ms);
    }
}
