package dev.thaw.bench.impl;

import dev.thaw.api.bench.CpuBenchReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** The rows, ratios and results file of {@code thaw:bench cpu}. */
final class CpuResults {

    /** One run of one mode: guest instructions (null where unknown) and wall time. */
    record Run(Long instructions, double ms) {

        /** Million instructions per second, or null. */
        Double mips() {
            return instructions == null || ms <= 0 ? null : instructions / ms / 1e3;
        }
    }

    private CpuResults() {}

    /** A mode's row: the medians of its runs. */
    static CpuBenchReport.Row row(String runner, String workload, List<Run> runs, String note) {
        return new CpuBenchReport.Row(runner, workload, Median.ofLongs(runs.stream().map(Run::instructions).toList()),
                Median.of(runs.stream().map(r -> (Double) r.ms()).toList()), Median.of(runs.stream().map(Run::mips).toList()), note);
    }

    /** A row that was not measured; {@code why} says why. */
    static CpuBenchReport.Row missing(String runner, String workload, String why) {
        return new CpuBenchReport.Row(runner, workload, null, null, null, why);
    }

    /** The ratios of instructions per second the targets are stated in; a ratio with a missing side is left out. */
    static Map<String, Double> ratios(List<CpuBenchReport.Row> rows) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        put(ratios, "fill-loop emulated/unicorn", rows, CpuBench.EMULATED + " " + CpuBench.FILL_LOOP,
                CpuBench.UNICORN + " " + CpuBench.FILL_LOOP);
        put(ratios, "fill emulated/kvm", rows, CpuBench.EMULATED + " " + CpuBench.FILL, CpuBench.KVM + " " + CpuBench.FILL);
        return ratios;
    }

    private static void put(Map<String, Double> ratios, String name, List<CpuBenchReport.Row> rows, String a, String b) {
        Optional<Double> x = mips(rows, a);
        Optional<Double> y = mips(rows, b);
        if (x.isPresent() && y.isPresent() && y.get() > 0) {
            ratios.put(name, x.get() / y.get());
        }
    }

    private static Optional<Double> mips(List<CpuBenchReport.Row> rows, String mode) {
        return rows.stream().filter(r -> r.mode().equals(mode)).map(CpuBenchReport.Row::mips).filter(Objects::nonNull).findFirst();
    }

    static void write(CpuBenchReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("request", report.request());
        json.put("rows", report.rows());
        json.put("ratios", report.ratios());
        json.put("profile", report.profile());
        json.put("notes", report.notes());
        ResultsFolder.writeJson(report.resultsDir(), json);
    }
}
