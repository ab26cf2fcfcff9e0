package dev.thaw.bench.impl;

import dev.thaw.api.bench.FileLoadReport;
import dev.thaw.api.bench.FileLoadRequest;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The rows, ratios and results folder of {@code thaw:bench qemu-file}. */
final class FileLoadResults {

    private FileLoadResults() {}

    static FileLoadReport report(FileLoadRequest request, String format, SnapshotRegion region, long presentBytes,
            double openMs, Map<String, List<LoadTiming>> times, QemuFileLoad qemu, PostcopyRows postcopy, List<String> notes) {
        List<FileLoadReport.Row> rows = new ArrayList<>();
        Map<String, Double> medians = new LinkedHashMap<>();
        times.forEach((mode, list) -> {
            if (list.isEmpty()) {
                return; // a QEMU that failed in the warm-up round
            }
            double ms = Median.of(list.stream().map(LoadTiming::touchedMs).toList());
            Double bare = Median.of(list.stream().map(LoadTiming::bareMs).toList()); // null where no load was bare
            medians.put(mode, ms);
            boolean isQemu = mode.equals(RestoreBench.QEMU);
            long bytes = isQemu ? qemu.presentBytes() : presentBytes;
            rows.add(new FileLoadReport.Row(mode, ms, bytes / 1e3 / ms, note(mode, region, qemu),
                    bare));
        });
        rows.addAll(postcopy.rows());
        Map<String, Double> ratios = new LinkedHashMap<>();
        for (String mode : medians.keySet()) {
            if (mode.equals(RestoreBench.QEMU)) {
                continue;
            }
            if (medians.containsKey(RestoreBench.QEMU)) {
                ratios.put("fullLoad " + mode + "/qemu", medians.get(mode) / medians.get(RestoreBench.QEMU));
            }
            if (!mode.equals(FileLoadBench.EAGER) && medians.containsKey(FileLoadBench.EAGER)) {
                ratios.put("fullLoad " + mode + "/" + FileLoadBench.EAGER, medians.get(mode) / medians.get(FileLoadBench.EAGER));
            }
        }
        ratios.putAll(postcopy.ratios(medians.get(RestoreBench.QEMU)));
        List<String> all = new ArrayList<>(notes);
        all.add("medians of " + request.repeat() + " rounds after one warm-up round; the file is read from the page cache");
        all.add("FULL LOAD counts to every present page loaded and touched once from user space (LOAD alone beside it; "
                + "QEMU's reads touch its pages); each row starts right after " + (region.size() >> 20) + " MiB of memory was "
                + "touched and freed, so that no row pays for the host taking freed memory back");
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
        for (EagerPath path : EagerPath.candidates()) {
            if (mode.equals(path.mode())) {
                return (path == EagerPath.THAW ? "Thaw's eager restore: " : "") + "no userfaultfd, the present pages of "
                        + region.name() + " into fresh memory: " + path.describe();
            }
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
        ResultsFolder.writeJson(report.resultsDir(), json);
    }
}
