package dev.thaw.api.bench;

import java.nio.file.Path;

/**
 * What to measure.
 *
 * @param memoryBytes the guest's memory
 * @param workingSetBytes the memory its function reads and writes per invocation
 * @param vcpus the guest's vCPUs
 * @param repeat measured rounds (each mode once per round, modes interleaved); figures are medians
 * @param loaderThreads background loader threads of each lazy restore
 * @param resultsRoot the folder under which each run makes its own results folder
 * @param floorSource the C source of the userfaultfd cost floor to run beside Thaw's demand faults
 *     ({@code ../shared/tools/uffd-floor.c} on the team's machines), or null to leave that row out
 * @param runtime the runtime the guest boots and is restored on ({@code qemu}: QEMU's own load is the eager row),
 *     or null for the platform's default runtime
 * @param residentBytes the memory the guest's function holds data in (its init fills it; each invocation touches only
 *     its working set), or 0 for the working set alone
 * @param writePercent the share, 1 to 100, of the pages each invocation of the guest's function reads that it also
 *     writes (100: every page it reads)
 */
public record BenchRequest(long memoryBytes, long workingSetBytes, int vcpus, int repeat, int loaderThreads,
        Path resultsRoot, Path floorSource, String runtime, long residentBytes, int writePercent) {

    /** Writing every page each invocation reads. */
    public BenchRequest(long memoryBytes, long workingSetBytes, int vcpus, int repeat, int loaderThreads, Path resultsRoot,
            Path floorSource, String runtime, long residentBytes) {
        this(memoryBytes, workingSetBytes, vcpus, repeat, loaderThreads, resultsRoot, floorSource, runtime, residentBytes, 100);
    }

    /** With data in the working set alone. */
    public BenchRequest(long memoryBytes, long workingSetBytes, int vcpus, int repeat, int loaderThreads, Path resultsRoot,
            Path floorSource, String runtime) {
        this(memoryBytes, workingSetBytes, vcpus, repeat, loaderThreads, resultsRoot, floorSource, runtime, 0);
    }

    /** On the platform's default runtime. */
    public BenchRequest(long memoryBytes, long workingSetBytes, int vcpus, int repeat, int loaderThreads, Path resultsRoot,
            Path floorSource) {
        this(memoryBytes, workingSetBytes, vcpus, repeat, loaderThreads, resultsRoot, floorSource, null, 0);
    }

    public BenchRequest {
        if (memoryBytes <= 0 || workingSetBytes <= 0 || workingSetBytes >= memoryBytes) {
            throw new IllegalArgumentException("the working set (" + workingSetBytes
                    + " bytes) must be positive and smaller than the memory (" + memoryBytes + " bytes)");
        }
        if (residentBytes != 0 && (residentBytes < workingSetBytes || residentBytes >= memoryBytes)) {
            throw new IllegalArgumentException("the resident set (" + residentBytes + " bytes) must hold the working set ("
                    + workingSetBytes + " bytes) and be smaller than the memory (" + memoryBytes + " bytes)");
        }
        if (writePercent < 1 || writePercent > 100) {
            throw new IllegalArgumentException("the write percent must be 1 to 100, not " + writePercent);
        }
        if (vcpus < 1 || repeat < 1 || repeat > 100 || loaderThreads < 1) {
            throw new IllegalArgumentException("vcpus and loader threads must be at least 1, repeat 1 to 100");
        }
    }
}
