package dev.thaw.api.vm;

/**
 * What to boot: a VM running the test guest.
 *
 * @param name the VM's id, or null to have one chosen
 * @param memoryBytes guest RAM
 * @param vcpus number of vCPUs
 * @param workload what the guest runs
 * @param seed seed of the workload's data and order
 * @param workingSetBytes bytes the {@code touch} and {@code function} workloads use
 * @param touchOrder page order of the {@code touch} workload
 * @param strideBytes stride of the strided {@code touch} order
 * @param residentBytes memory the {@code function} workload keeps filled, of which each invocation reads its working
 *     set; {@value #RESIDENT_AS_WORKING_SET}: the working set alone
 * @param writePercent the share, 1 to 100, of the pages each {@code function} invocation reads that it also writes
 *     ({@value #WRITE_ALL}: every page it reads, as requests made before the field did)
 */
public record BootRequest(
        String name,
        long memoryBytes,
        int vcpus,
        Workload workload,
        long seed,
        long workingSetBytes,
        TouchOrder touchOrder,
        long strideBytes,
        long residentBytes,
        int writePercent) {

    public static final long DEFAULT_MEMORY = 256L << 20;
    public static final long DEFAULT_WORKING_SET = 32L << 20;
    public static final long DEFAULT_STRIDE = 64L << 10;
    /** The {@code residentBytes} of a guest that keeps only its working set filled (and of requests made before the field). */
    public static final long RESIDENT_AS_WORKING_SET = 0;
    /** The {@code writePercent} of a guest whose invocations write every page they read (and of requests made before the field). */
    public static final int WRITE_ALL = 100;

    public BootRequest {
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be at least 1, not " + vcpus);
        }
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("memory must be positive");
        }
        if (workingSetBytes <= 0 || workingSetBytes % 4096 != 0) {
            throw new IllegalArgumentException("working set must be a positive multiple of 4 KiB, not " + workingSetBytes);
        }
        if (strideBytes <= 0 || strideBytes % 4096 != 0) {
            throw new IllegalArgumentException("stride must be a positive multiple of 4 KiB, not " + strideBytes);
        }
        if (residentBytes != RESIDENT_AS_WORKING_SET && (residentBytes < 0 || residentBytes % 4096 != 0)) {
            throw new IllegalArgumentException("resident set must be 0 or a positive multiple of 4 KiB, not " + residentBytes);
        }
        if (residentBytes != RESIDENT_AS_WORKING_SET && residentBytes < workingSetBytes) {
            throw new IllegalArgumentException("resident set " + size(residentBytes) + " is smaller than the working set of "
                    + size(workingSetBytes));
        }
        if (writePercent < 1 || writePercent > WRITE_ALL) {
            throw new IllegalArgumentException("write percent must be 1 to 100, not " + writePercent);
        }
        if (workload == null || touchOrder == null) {
            throw new IllegalArgumentException("workload and touch order are required");
        }
    }

    /** A guest whose invocations write every page they read. */
    public BootRequest(String name, long memoryBytes, int vcpus, Workload workload, long seed, long workingSetBytes,
            TouchOrder touchOrder, long strideBytes, long residentBytes) {
        this(name, memoryBytes, vcpus, workload, seed, workingSetBytes, touchOrder, strideBytes, residentBytes, WRITE_ALL);
    }

    /** A guest that keeps only its working set filled, and whose invocations write every page they read. */
    public BootRequest(String name, long memoryBytes, int vcpus, Workload workload, long seed, long workingSetBytes,
            TouchOrder touchOrder, long strideBytes) {
        this(name, memoryBytes, vcpus, workload, seed, workingSetBytes, touchOrder, strideBytes, RESIDENT_AS_WORKING_SET);
    }

    /** The defaults of {@code thaw:boot}: 256 MiB, one vCPU, the given workload. */
    public static BootRequest defaults(Workload workload) {
        return new BootRequest(null, DEFAULT_MEMORY, 1, workload, 1, DEFAULT_WORKING_SET, TouchOrder.SEQUENTIAL, DEFAULT_STRIDE);
    }

    private static String size(long bytes) {
        return bytes % (1L << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
    }
}
