package dev.thaw.restore.impl;

import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.restore.RestoreStats.Phase;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * One restore's figures (docs/restore-figures.md), counted by the threads that serve and load, read live
 * by {@link #stats}; and the estimate of prefetched pages never used (docs/working-set-profile.md).
 */
final class Figures {

    private final long startNanos;
    private final long presentTotal;
    private final AtomicLong loadedPresent = new AtomicLong();
    private final LongAdder faults = new LongAdder();
    private final LongAdder pagesFault = new LongAdder();
    private final LongAdder pagesPrefetch = new LongAdder();
    private final LongAdder pagesBackground = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final Map<Integer, LongAdder> blocktime = new ConcurrentHashMap<>();
    private final LatencyLog latencies = new LatencyLog();
    private volatile long resumeLatency = -1;
    private volatile long fullLoadTime = -1;
    private volatile long firstLoadNanos = -1;
    private volatile long endNanos = -1;
    /** Prefetched runs not yet confirmed used, keyed by first page: {end, loaded pages}. Guarded by this. */
    private final TreeMap<Long, long[]> openPrefetches = new TreeMap<>();
    private final AtomicLong wastedEstimate = new AtomicLong();

    /** Snapshot-held pages reported loaded where another count says it (a shared cache's); null: those put in here. */
    private final LongSupplier loadedElsewhere;

    /** @param loadedElsewhere what {@link #stats} reports as loaded, or null for the pages counted in by {@link #loaded} */
    Figures(long startNanos, long presentTotal, LongSupplier loadedElsewhere) {
        this.startNanos = startNanos;
        this.presentTotal = presentTotal;
        this.loadedElsewhere = loadedElsewhere;
    }

    /** Records the resume latency (the first call counts). */
    void resumed() {
        if (resumeLatency < 0) {
            resumeLatency = System.nanoTime() - startNanos;
        }
    }

    boolean hasResumed() {
        return resumeLatency >= 0;
    }

    /** A load begins: the bandwidth counts from the first. */
    void loading() {
        if (firstLoadNanos < 0) {
            firstLoadNanos = System.nanoTime();
        }
    }

    void read(long bytes) {
        bytesRead.add(bytes);
    }

    /** {@code count} snapshot-held pages are in; true when that makes all of them. */
    boolean loaded(long count) {
        return loadedPresent.addAndGet(count) == presentTotal;
    }

    boolean allLoaded() {
        return loadedPresent.get() == presentTotal;
    }

    /** Every snapshot-held page is in. */
    void completed() {
        endNanos = System.nanoTime();
        fullLoadTime = endNanos - startNanos;
    }

    /** The restore failed or was closed (the first end counts). */
    void ended() {
        if (endNanos < 0) {
            endNanos = System.nanoTime();
        }
    }

    /** A fault served in {@code nanos}, for {@code vcpu}. */
    void fault(int vcpu, long nanos) {
        faults.increment();
        latencies.add(nanos);
        blocktime.computeIfAbsent(vcpu, k -> new LongAdder()).add(nanos);
    }

    void faultPage() {
        pagesFault.increment();
    }

    void background(long pages) {
        pagesBackground.add(pages);
    }

    /** Zero pages mapped for the policy's ranges: prefetched, never counted as wasted (no read). */
    void prefetchedZeros(long pages) {
        pagesPrefetch.add(pages);
    }

    /** Pages {@code [first, end)} were loaded ahead of need ({@code count} of them from the snapshot). */
    synchronized void prefetched(long first, long end, long count) {
        pagesPrefetch.add(count);
        openPrefetches.put(first, new long[] {end, count});
        wastedEstimate.addAndGet(count);
    }

    /** A fault next to or inside an open prefetched run means the guest walked through it: it was used. */
    synchronized void noteFault(long page) {
        var below = openPrefetches.floorEntry(page);
        if (below != null) {
            long[] v = below.getValue();
            long span = v[0] - below.getKey();
            if (page <= v[0] + span) {
                openPrefetches.remove(below.getKey());
                wastedEstimate.addAndGet(-v[1]);
            }
        }
        var above = openPrefetches.ceilingEntry(page + 1);
        if (above != null) {
            long[] v = above.getValue();
            long span = v[0] - above.getKey();
            if (above.getKey() - page <= span) {
                openPrefetches.remove(above.getKey());
                wastedEstimate.addAndGet(-v[1]);
            }
        }
    }

    RestoreStats stats(String policy, Phase phase, long pages, long policyErrors, String policyProblem) {
        long[] p = latencies.percentiles();
        Map<Integer, Long> block = new TreeMap<>();
        blocktime.forEach((k, v) -> block.put(k, v.sum()));
        long read = bytesRead.sum();
        long from = firstLoadNanos;
        long to = endNanos > 0 ? endNanos : System.nanoTime();
        double bandwidth = from < 0 || to <= from ? 0 : read * 1e9 / (to - from);
        return new RestoreStats(policy, phase, pages, presentTotal,
                loadedElsewhere == null ? loadedPresent.get() : loadedElsewhere.getAsLong(), resumeLatency, fullLoadTime,
                faults.sum(), p[0], p[1], block, pagesFault.sum(), pagesPrefetch.sum(), pagesBackground.sum(),
                wastedEstimate.get(), read, bandwidth, policyErrors, policyProblem);
    }
}
