package dev.thaw.bench.impl;

import dev.thaw.api.bench.FileLoadReport;
import dev.thaw.api.bench.FileLoadRequest;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The rows, ratios and results folder of {@code thaw:bench qemu-file}. */
final class FileLoadResults {

    private FileLoadResults() {}

    static FileLoadReport report(FileLoadRequest request, String format, SnapshotRegion region, long presentBytes,
            double openMs, Map<String, List<Double>> times, QemuFileLoad qemu, PostcopyRows postcopy, List<String> notes) {
        List<FileLoadReport.Row> rows = new ArrayList<>();
        Map<String, Double> medians = new LinkedHashMap<>();
        times.forEach((mode, list) -> {
            if (list.isEmpty()) {
                return; // a QEMU that failed in the warm-up round
            }
            double ms = Median.of(list);
            medians.put(mode, ms);
            boolean isQemu = mode.equals(RestoreBench.QEMU);
            long bytes = isQemu ? qemu.presentBytes() : presentBytes;
            rows.add(new FileLoadReport.Row(mode, ms, bytes / 1e3 / ms, note(mode, region, qemu)));
        });
        rows.addAll(postcopy.rows());
        Map<String, Double> ratios = new LinkedHashMap<>();
        for (String mode : medians.keySet()) {
            if (!mode.equals(FileLoadBench.EAGER) && !mode.equals(RestoreBench.QEMU)) {
                if (medians.containsKey(RestoreBench.QEMU)) {
                    ratios.put("fullLoad " + mode + "/qemu", medians.get(mode) / medians.get(RestoreBench.QEMU));
                }
                ratios.put("fullLoad " + mode + "/" + FileLoadBench.EAGER, medians.get(mode) / medians.get(FileLoadBench.EAGER));
            }
        }
        ratios.putAll(postcopy.ratios(medians.get(RestoreBench.QEMU)));
        List<String> all = new ArrayList<>(notes);
        all.add("medians of " + request.repeat() + " rounds after one warm-up round; the file is read from the page cache");
        Path dir = ResultsFolder.create(request.resultsRoot(), "qemu-file");
        FileLoadReport report = new FileLoadReport(request, format, region.name(), region.size(), presentBytes, openMs, rows,
                ratios, all, dir);
        write(report, postcopy);
        return report;
    }

    private static String note(String mode, SnapshotRegion region, QemuFileLoad qemu) {
        if (mode.equals(RestoreBench.QEMU)) {
            return "QEMU " + QemuPeer.version() + " (" + qemu.machine() + "): migrate-incoming of the whole file until the "
                    + "MIGRATION event says completed; MB/s over all its RAM blocks' present pages";
        }
        if (mode.equals(FileLoadBench.EAGER)) {
            return "Thaw's reader, no userfaultfd: the present pages of " + region.name() + " into fresh memory, a read per run";
        }
        return "userfaultfd, no vCPU: the policy's background loaders load " + region.name() + " into fresh memory";
    }

    private static void write(FileLoadReport report, PostcopyRows postcopy) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("request", report.request());
        json.put("format", report.format());
        json.put("region", report.region());
        json.put("regionBytes", report.regionBytes());
        json.put("presentBytes", report.presentBytes());
        json.put("openMs", report.openMs());
        json.put("rows", report.rows());
        json.put("postcopy", postcopy.figures());
        json.put("ratios", report.ratios());
        json.put("notes", report.notes());
        try {
            Files.write(report.resultsDir().resolve("results.json"), ResultsFolder.JSON.writeValueAsBytes(json));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results into " + report.resultsDir() + ": " + e.getMessage(), e);
        }
    }
}
