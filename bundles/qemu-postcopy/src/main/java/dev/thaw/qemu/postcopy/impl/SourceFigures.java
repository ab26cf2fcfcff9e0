package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.restore.RestoreStats.Phase;
import dev.thaw.qemu.postcopy.impl.Batch.Cause;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A postcopy source's figures under the restore's names (docs/restore-figures.md): a page request is a fault,
 * its latency runs from reading the request to writing the part that carries its first page not sent before (a
 * request for pages already on their way has none); the resume is the PONG after the device state; the full
 * load is SHUT 0, the destination's word that every page is placed. Read from any thread.
 */
final class SourceFigures {

    private final long startNanos;
    private volatile Phase phase = Phase.LOADING;
    private volatile long resumeNanos = -1;
    private volatile long firstPageNanos = -1;
    private volatile long completeNanos = -1;
    private final LongAdder requests = new LongAdder();
    private final LongAdder pagesRequest = new LongAdder();
    private final LongAdder pagesPrefetch = new LongAdder();
    private final LongAdder pagesBackground = new LongAdder();
    private final LongAdder presentSent = new LongAdder();
    private final LongAdder bytesSent = new LongAdder();
    private long[] latencies = new long[64]; // guarded by this
    private int latencyCount; // guarded by this

    SourceFigures(long startNanos) {
        this.startNanos = startNanos;
    }

    void request() {
        requests.increment();
    }

    /** Page sent for {@code cause}; {@code present}: read from the file (else a ZERO record). */
    void page(Cause cause, boolean present) {
        switch (cause) {
            case REQUEST -> pagesRequest.increment();
            case PREFETCH -> pagesPrefetch.increment();
            case BACKGROUND -> pagesBackground.increment();
        }
        if (present) {
            presentSent.increment();
        }
        if (firstPageNanos < 0) {
            firstPageNanos = System.nanoTime();
        }
    }

    void sent(long bytes) {
        bytesSent.add(bytes);
    }

    synchronized void latency(long nanos) {
        if (latencyCount == latencies.length) {
            latencies = Arrays.copyOf(latencies, latencyCount * 2);
        }
        latencies[latencyCount++] = nanos;
    }

    /** The device state is loaded (the PONG to the package's PING): the vCPUs start now, unless QEMU has -S. */
    void resumed() {
        if (resumeNanos < 0) {
            resumeNanos = System.nanoTime();
        }
    }

    /** Whether the destination said its device state is loaded: its main thread has left the package. */
    boolean devicesLoaded() {
        return resumeNanos >= 0;
    }

    void completed() {
        completeNanos = System.nanoTime();
        phase = Phase.COMPLETE;
    }

    void ended(Phase why) {
        phase = why;
    }

    Phase phase() {
        return phase;
    }

    long bytesSent() {
        return bytesSent.sum();
    }

    /** Pages sent so far, for every cause. */
    long pagesSent() {
        return pagesRequest.sum() + pagesPrefetch.sum() + pagesBackground.sum();
    }

    RestoreStats stats(String policy, long pages, long presentPages, long policyErrors, String policyProblem) {
        long p50;
        long p99;
        long blocked;
        synchronized (this) {
            long[] sorted = Arrays.copyOf(latencies, latencyCount);
            Arrays.sort(sorted);
            p50 = percentile(sorted, 50);
            p99 = percentile(sorted, 99);
            blocked = Arrays.stream(sorted).sum();
        }
        long complete = completeNanos;
        long end = complete >= 0 ? complete : System.nanoTime();
        long first = firstPageNanos;
        double seconds = first < 0 ? 0 : (end - first) / 1e9;
        long present = presentSent.sum();
        long read = present * Protocol.PAGE_SIZE; // a page from the file is read whole; a zero page is not read
        return new RestoreStats(policy, phase, pages, presentPages, present,
                resumeNanos < 0 ? -1 : resumeNanos - startNanos, complete < 0 ? -1 : complete - startNanos,
                requests.sum(), p50, p99, Map.of(-1, blocked), pagesRequest.sum(), pagesPrefetch.sum(),
                pagesBackground.sum(), 0, read, seconds > 0 ? read / seconds : 0, policyErrors, policyProblem);
    }

    private static long percentile(long[] sorted, int pct) {
        if (sorted.length == 0) {
            return -1;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(pct / 100.0 * sorted.length) - 1)];
    }
}
