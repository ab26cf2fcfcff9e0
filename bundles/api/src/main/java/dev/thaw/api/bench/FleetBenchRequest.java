package dev.thaw.api.bench;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@code thaw:bench fleet} measures.
 *
 * @param count the VMs of each row, 1 to {@link #MAX_COUNT}
 * @param memoryBytes each guest's memory: a multiple of 2 MiB, at least {@link #MIN_MEMORY}
 * @param workingSetBytes the memory its function reads per invocation: a positive multiple of 4 KiB, smaller than
 *     the memory
 * @param writePercent the share, 1 to 100, of the pages each invocation reads that it also writes
 * @param resultsRoot the folder that gets one results folder per run
 * @param residentBytes the memory the guest keeps filled, of which each invocation reads its working set: a multiple
 *     of 4 KiB, at least the working set and smaller than the memory; {@link #RESIDENT_AS_WORKING_SET}: the working
 *     set alone
 */
public record FleetBenchRequest(int count, long memoryBytes, long workingSetBytes, int writePercent, Path resultsRoot,
        long residentBytes) {

    /** The {@code residentBytes} of a guest that keeps only its working set filled, the default. */
    public static final long RESIDENT_AS_WORKING_SET = 0;

    public static final int DEFAULT_COUNT = 16;
    public static final long DEFAULT_MEMORY = 256L << 20;
    public static final long DEFAULT_WORKING_SET = 32L << 20;
    public static final int DEFAULT_WRITE_PERCENT = 10;
    /** The most VMs a fleet has ({@link dev.thaw.api.vm.VmManager#restoreFleet}). */
    public static final int MAX_COUNT = 256;
    /** The least memory: the guest's own 4 MiB and some to work in. */
    public static final long MIN_MEMORY = 8L << 20;

    public FleetBenchRequest {
        Objects.requireNonNull(resultsRoot, "resultsRoot");
        if (count < 1 || count > MAX_COUNT) {
            throw new IllegalArgumentException("--count " + count + ": a fleet has 1 to " + MAX_COUNT + " VMs");
        }
        if (memoryBytes < MIN_MEMORY || memoryBytes % (2L << 20) != 0) {
            throw new IllegalArgumentException("--memory " + size(memoryBytes) + ": a multiple of 2 MiB, at least 8 MiB");
        }
        if (workingSetBytes <= 0 || workingSetBytes % 4096 != 0 || workingSetBytes >= memoryBytes) {
            throw new IllegalArgumentException("--working-set " + size(workingSetBytes) + ": a positive multiple of 4 KiB, "
                    + "smaller than the memory (" + size(memoryBytes) + ")");
        }
        if (writePercent < 1 || writePercent > 100) {
            throw new IllegalArgumentException("--write-percent " + writePercent + ": 1 to 100");
        }
        if (residentBytes != RESIDENT_AS_WORKING_SET && (residentBytes % 4096 != 0 || residentBytes < workingSetBytes
                || residentBytes >= memoryBytes)) {
            throw new IllegalArgumentException("--resident " + size(residentBytes) + ": a multiple of 4 KiB, at least the "
                    + "working set (" + size(workingSetBytes) + ") and smaller than the memory (" + size(memoryBytes) + ")");
        }
    }

    /** A request whose guests keep only their working set filled. */
    public FleetBenchRequest(int count, long memoryBytes, long workingSetBytes, int writePercent, Path resultsRoot) {
        this(count, memoryBytes, workingSetBytes, writePercent, resultsRoot, RESIDENT_AS_WORKING_SET);
    }

    /** {@code 256 MiB}, or bytes where it is not whole MiB. */
    private static String size(long bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
    }
}
