package dev.thaw.api.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A benchmark run's outcome.
 *
 * @param request what was measured
 * @param rows one per mode, in the order measured
 * @param ratios the targets' ratios by name (for example {@code resumeLatency.sequential/eager})
 * @param notes what a reader should know about this run (skipped rows, warm-up)
 * @param resultsDir where {@code results.json} and {@code chart.svg} were written
 */
public record BenchReport(BenchRequest request, List<BenchRow> rows, Map<String, Double> ratios, List<String> notes,
        Path resultsDir) {

    public BenchReport {
        rows = List.copyOf(rows);
        ratios = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(ratios)); // in the order given
        notes = List.copyOf(notes);
    }
}
