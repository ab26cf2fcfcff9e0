package dev.thaw.api.bench;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@code thaw:bench cpu} measures.
 *
 * @param memoryBytes the guests' memory, and the memory the fill loop runs over (the same addresses the
 *     guest's {@code fill} writes: from 4 MiB to the end); a multiple of 2 MiB, at least 8 MiB
 * @param repeat measured rounds after one warm-up round; figures are medians
 * @param resultsRoot the folder that gets one results folder per run
 */
public record CpuBenchRequest(long memoryBytes, int repeat, Path resultsRoot) {

    /** The least memory: the guest's own 4 MiB and some to fill. */
    public static final long MIN_MEMORY = 8L << 20;

    public CpuBenchRequest {
        Objects.requireNonNull(resultsRoot, "resultsRoot");
        if (memoryBytes < MIN_MEMORY || memoryBytes % (2L << 20) != 0) {
            throw new IllegalArgumentException("memory " + memoryBytes + " bytes: a multiple of 2 MiB, at least 8 MiB");
        }
        if (repeat < 1 || repeat > 100) {
            throw new IllegalArgumentException("repeat " + repeat + ": 1 to 100");
        }
    }
}
