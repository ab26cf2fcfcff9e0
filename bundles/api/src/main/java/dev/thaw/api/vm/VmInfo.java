package dev.thaw.api.vm;

import java.time.Duration;

/**
 * A snapshot of a VM's public facts, for listings.
 *
 * @param exitCode the guest's exit code when {@link VmStatus#EXITED}, else -1
 * @param reason why the VM failed, when {@link VmStatus#FAILED}, else empty
 * @param firstOutput time from the boot request to the guest's first console byte, or null before it
 * @param resumeLatency for a restored VM, the time from the restore request to every vCPU running; null
 *     for a booted one
 * @param runtime the vCPU runtime it runs on ({@code kvm}, {@code emulated})
 */
public record VmInfo(
        String id,
        VmStatus status,
        long memoryBytes,
        int vcpus,
        Workload workload,
        Duration uptime,
        int exitCode,
        String reason,
        Duration firstOutput,
        Duration resumeLatency,
        String runtime) {}
