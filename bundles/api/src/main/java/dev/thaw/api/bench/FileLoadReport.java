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
 * @param rows one per mode: {@code thaw-eager}, each policy, {@code qemu}
 * @param ratios {@code fullLoad POLICY/qemu} and {@code fullLoad POLICY/thaw-eager}
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
     * @param mode {@code thaw-eager}, a policy's name, or {@code qemu}
     * @param fullLoadMs median time to every page present (null: no row, see the note)
     * @param bandwidthMBps the file's bytes loaded per second at that median (for QEMU: its whole file's RAM)
     * @param note how it was measured, or why there is no figure
     */
    public record Row(String mode, Double fullLoadMs, Double bandwidthMBps, String note) {}
}
