package dev.thaw.restore.impl;

import java.util.Arrays;

/** Fault service times in nanoseconds; one writer (the fault service), readers take percentiles. */
final class LatencyLog {

    /** Samples kept at most (the percentiles then describe the first this many faults). */
    static final int MAX_SAMPLES = 1 << 22;

    private long[] samples = new long[1024];
    private int count;

    synchronized void add(long nanos) {
        if (count == samples.length) {
            if (count == MAX_SAMPLES) {
                return;
            }
            samples = Arrays.copyOf(samples, Math.min(MAX_SAMPLES, count * 2));
        }
        samples[count++] = nanos;
    }

    /** {@code p50} and {@code p99}, -1 when there are no samples. */
    long[] percentiles() {
        long[] copy;
        synchronized (this) {
            copy = Arrays.copyOf(samples, count);
        }
        if (copy.length == 0) {
            return new long[] {-1, -1};
        }
        Arrays.sort(copy);
        return new long[] {copy[(copy.length - 1) / 2], copy[(int) Math.min(copy.length - 1, Math.ceil(copy.length * 0.99) - 1)]};
    }
}
