package dev.thaw.api.bench;

/**
 * One mode's figures (medians over the rounds); null where a figure does not apply to the mode.
 *
 * @param mode {@code eager}, a policy name, {@code warm} (the VM that was never stopped) or {@code qemu}
 * @param resumeLatencyMs from the restore call to every vCPU running
 * @param firstInvocationMs the first invocation after the restore
 * @param warmInvocationMs the next invocation, once every page is loaded
 * @param faults demand faults
 * @param faultLatencyP50Us median fault service time, from reading the fault to waking the vCPU
 * @param faultLatencyP99Us 99th percentile of the same
 * @param faultCostUs what one demand fault costs the guest: for {@code none}, (first invocation - warm
 *     invocation) / faults; for {@code uffd-floor}, the C floor's time per faulted page minus its time per
 *     populated page
 * @param pagesFault pages loaded because of a fault
 * @param pagesPrefetch pages loaded with a fault because the policy asked for them
 * @param pagesBackground pages loaded by the background loaders
 * @param wastedPages prefetched pages never touched before full load (an estimate)
 * @param fullLoadMs from the restore call to every page present
 * @param bandwidthMBps bytes read from the snapshot per second of loading
 * @param note why a row or figure is missing, or how it was made; empty if nothing to say
 */
public record BenchRow(String mode, Double resumeLatencyMs, Double firstInvocationMs, Double warmInvocationMs,
        Long faults, Double faultLatencyP50Us, Double faultLatencyP99Us, Double faultCostUs, Long pagesFault, Long pagesPrefetch,
        Long pagesBackground, Long wastedPages, Double fullLoadMs, Double bandwidthMBps, String note) {}
