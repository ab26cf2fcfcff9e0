package dev.thaw.api.restore;

import java.util.Map;

/**
 * A lazy restore's figures, read live, under the names the shell and the benchmarks use too (defined in
 * the repository's docs/restore-figures.md). Times are nanoseconds; -1 where not (yet) known.
 *
 * @param policy the policy's name
 * @param phase where the restore is
 * @param pages guest pages, all regions
 * @param presentPages pages the snapshot holds (the others are zero and loaded on touch only)
 * @param loadedPages snapshot-held pages loaded so far (progress: {@code loadedPages / presentPages})
 * @param resumeLatency from {@code startNanos} to {@link LazyRestore#resumed()}
 * @param fullLoadTime from {@code startNanos} to every snapshot-held page present
 * @param faults demand faults served (faults on pages another thread was loading included)
 * @param faultLatencyP50 median fault service time: from reading the fault message to waking the thread
 * @param faultLatencyP99 99th percentile of the same
 * @param blocktime per vCPU index (-1: threads that are no vCPU), the sum of its faults' service times
 * @param pagesFault pages loaded because a thread faulted on them (zero pages included)
 * @param pagesPrefetch pages loaded with a fault because the policy asked for them ({@code onFault})
 * @param pagesBackground pages loaded by the background loaders
 * @param pagesWasted an estimate of prefetched pages never touched before full load (see
 *     docs/working-set-profile.md, "Wasted pages")
 * @param bytesRead bytes read from the snapshot
 * @param bandwidth bytes read per second, over the time from the first load to full load (or now)
 * @param policyErrors policy calls that threw, returned ranges outside guest memory or took too long
 * @param policyProblem why the policy was disabled for this restore, else its first error; null when none
 */
public record RestoreStats(String policy, Phase phase, long pages, long presentPages, long loadedPages,
        long resumeLatency, long fullLoadTime, long faults, long faultLatencyP50, long faultLatencyP99,
        Map<Integer, Long> blocktime, long pagesFault, long pagesPrefetch, long pagesBackground, long pagesWasted,
        long bytesRead, double bandwidth, long policyErrors, String policyProblem) {

    public RestoreStats {
        blocktime = Map.copyOf(blocktime);
    }

    public enum Phase {
        /** Pure demand loading while the first-touch order is logged. */
        RECORDING,
        LOADING,
        /** Every snapshot-held page is present; userfaultfd released. */
        COMPLETE,
        /** A page could not be loaded; see the failure callback. */
        FAILED,
        /** Closed before completing. */
        CLOSED
    }
}
