package dev.thaw.api.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A file load benchmark's outcome.
 *
 * @param request what was measured
 * @param format the file's format
 * @param region the RAM block loaded (the largest)
 * @param regionBytes its size
 * @param presentBytes the bytes of its pages the file holds
 * @param openMs median time to open the file: its headers and page bitmaps, what {@code thaw:inspect} reads
 * @param rows one per mode: {@code thaw-eager}, each policy, {@code qemu}, {@code postcopy POLICY} (Thaw serving
 *     the file to a destination QEMU; its note holds the resume time, pages and bytes sent)
 * @param ratios {@code fullLoad POLICY/qemu}, {@code fullLoad POLICY/thaw-eager}, and {@code resume} and
 *     {@code fullLoad} of each {@code postcopy POLICY} over {@code qemu}
 * @param notes what a reader should know (skipped rows, what QEMU loaded)
 * @param resultsDir where {@code results.json} was written
 */
public record FileLoadReport(FileLoadRequest request, String format, String region, long regionBytes, long presentBytes,
        double openMs, List<Row> rows, Map<String, Double> ratios, List<String> notes, Path resultsDir) {

    public FileLoadReport {
        rows = List.copyOf(rows);
        ratios = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(ratios));
        notes = List.copyOf(notes);
    }

    /**
     * @param mode {@code thaw-eager}, a policy's name, {@code qemu}, or {@code postcopy } and a policy's name
     * @param fullLoadMs median time to every page present and touched once from user space (null: no row, see
     *     the note): on a machine where a page's first access costs more than its load, a load that only installs
     *     pages leaves that bill to the guest
     * @param bandwidthMBps the file's bytes loaded per second at that median (for QEMU: its whole file's RAM)
     * @param note how it was measured, or why there is no figure
     * @param bareLoadMs median time to every page present, before the touch (null where the two are one, as in
     *     QEMU's load, whose reads touch each page, or where the mode cannot tell)
     */
    public record Row(String mode, Double fullLoadMs, Double bandwidthMBps, String note, Double bareLoadMs) {

        /** A row whose load and touch are one (or whose bare load is not known). */
        public Row(String mode, Double fullLoadMs, Double bandwidthMBps, String note) {
            this(mode, fullLoadMs, bandwidthMBps, note, null);
        }
    }
}
