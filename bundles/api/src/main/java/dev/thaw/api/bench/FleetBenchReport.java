package dev.thaw.api.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A fleet benchmark run's outcome.
 *
 * @param request what was measured
 * @param presentBytes the snapshot's stored (non-zero) pages: what one fully loaded VM holds
 * @param answer the result line of the snapshot's next invocation, as the VM that was snapshotted computed it on;
 *     every restored VM answered it
 * @param rows {@code shared}, {@code lazy}, {@code eager}, in the order measured
 * @param ratios by name: {@code hostMemory shared/(snapshot+written)} (target at most 1.5),
 *     {@code pssGain shared/(snapshot+written)}, {@code pssFreed shared/(snapshot+written)} (the Pss given back when
 *     the VMs stopped), {@code allAnswered shared/lazy} (target at most 1.0),
 *     {@code allAnswered shared/eager}, {@code hostMemory shared/lazy}
 * @param notes what a reader should know: how each figure was taken, memory that did not come back
 * @param resultsDir where {@code results.json} was written
 */
public record FleetBenchReport(FleetBenchRequest request, long presentBytes, String answer, List<Row> rows,
        Map<String, Double> ratios, List<String> notes, Path resultsDir) {

    public FleetBenchReport {
        rows = List.copyOf(rows);
        ratios = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(ratios)); // in the order given
        notes = List.copyOf(notes);
    }

    /**
     * One way of restoring N VMs.
     *
     * @param mode {@code shared} (one fleet sharing the snapshot's pages, lazy), {@code lazy} (N independent lazy
     *     restores) or {@code eager} (N eager restores)
     * @param vms the VMs restored
     * @param restoreMs from the restore command until it returned, every VM running
     * @param allAnsweredMs from the restore command until every VM had answered its first invocation, the
     *     invocations sent to all VMs at once when the command returned
     * @param allLoadedMs from the restore command until every VM's memory was fully loaded
     * @param answered the VMs that answered {@link FleetBenchReport#answer()}
     * @param hostBytes the host memory the fleet holds once fully loaded, as Thaw reports it
     *     ({@link dev.thaw.api.vm.FleetInfo#hostBytes()})
     * @param pssGainBytes what the process's proportional set size ({@code /proc/self/smaps_rollup}) gained from
     *     before the restore to that moment
     * @param writtenBytes the pages the guests wrote, each a private copy (their owned pages): shared row only, null
     *     where the VMs own every page they hold
     * @param pssLeftBytes what the process's proportional set size still held over its figure before the restore,
     *     once the row's VMs had stopped (negative: it shrank)
     * @param note how the row restores
     */
    public record Row(String mode, int vms, double restoreMs, double allAnsweredMs, double allLoadedMs, int answered,
            long hostBytes, long pssGainBytes, Long writtenBytes, long pssLeftBytes, String note) {}
}
