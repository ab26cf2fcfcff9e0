package dev.thaw.kvm.impl;

/**
 * Where a VM's time from the create request to running vCPUs went, for one DEBUG line at start: the
 * numbers that show whether creation stays off the resume path. Guarded by the VM's lock.
 */
final class CreationTimes {

    private final long requested;
    private final long created;
    private long memory;
    private long vcpus;

    /** @param requested when createVm was called ({@link System#nanoTime()}); created is now */
    CreationTimes(long requested) {
        this.requested = requested;
        this.created = System.nanoTime();
    }

    /** Adds the time since {@code since} to memory registration. */
    void memory(long since) {
        memory += System.nanoTime() - since;
    }

    /** Adds the time since {@code since} to irqchip and vCPU creation (with CPUID and setup). */
    void vcpus(long since) {
        vcpus += System.nanoTime() - since;
    }

    /** One line: total and per phase in microseconds, {@code startedSince} being when start() began. */
    String summary(long startedSince) {
        long now = System.nanoTime();
        return String.format("%d µs after the create request (create %d, memory %d, irqchip and vCPUs %d, start %d;"
                        + " the caller's own work between them %d)",
                micros(now - requested), micros(created - requested), micros(memory), micros(vcpus),
                micros(now - startedSince),
                micros((startedSince - created) - memory - vcpus));
    }

    private static long micros(long nanos) {
        return nanos / 1_000;
    }
}
