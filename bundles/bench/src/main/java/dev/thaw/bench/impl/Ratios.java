package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchRow;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** The ratios the restore targets are stated in, from a run's rows; a ratio with a missing side is left out. */
final class Ratios {

    private Ratios() {}

    static Map<String, Double> of(List<BenchRow> rows) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        for (BenchRow r : rows) {
            if (isLazy(r.mode())) {
                put(ratios, "resumeLatency " + r.mode() + "/eager", rows, r.mode(), RestoreBench.EAGER, BenchRow::resumeLatencyMs);
            }
        }
        put(ratios, "firstInvocation hot-page-first/warm", rows, "hot-page-first", RestoreBench.WARM, BenchRow::firstInvocationMs);
        put(ratios, "firstInvocation " + RestoreBench.PRELOADED + "/warm", rows, RestoreBench.PRELOADED, RestoreBench.WARM,
                BenchRow::firstInvocationMs);
        put(ratios, "faults hot-page-first/none", rows, "hot-page-first", "none", r -> asDouble(r.faults()));
        put(ratios, "firstInvocation prefetch-window/none", rows, "prefetch-window", "none", BenchRow::firstInvocationMs);
        put(ratios, "faultCost none/uffd-floor", rows, "none", FloorRow.MODE, BenchRow::faultCostUs);
        // QEMU's load of a file of the same pages, and its eager load of the same guest (the targets are against that)
        for (String qemu : List.of(RestoreBench.QEMU, QemuEagerRow.MODE)) {
            for (BenchRow r : rows) {
                if (isLazy(r.mode()) || r.mode().equals(RestoreBench.EAGER)) {
                    put(ratios, "fullLoad " + r.mode() + "/" + qemu, rows, r.mode(), qemu, BenchRow::fullLoadMs);
                }
            }
        }
        // On the qemu runtime eager is QEMU's own load: the full load target is against it.
        for (BenchRow r : rows) {
            if (isLazy(r.mode())) {
                put(ratios, "fullLoad " + r.mode() + "/eager", rows, r.mode(), RestoreBench.EAGER, BenchRow::fullLoadMs);
            }
        }
        return ratios;
    }

    private static boolean isLazy(String mode) {
        return !mode.equals(RestoreBench.EAGER) && !mode.equals(RestoreBench.WARM) && !mode.equals(RestoreBench.QEMU)
                && !mode.equals(FloorRow.MODE) && !mode.equals(QemuStartRow.MODE) && !mode.equals(QemuEagerRow.MODE);
    }

    private static void put(Map<String, Double> ratios, String name, List<BenchRow> rows, String a, String b,
            Function<BenchRow, Double> field) {
        Optional<Double> x = find(rows, a).map(field);
        Optional<Double> y = find(rows, b).map(field);
        if (x.isPresent() && y.isPresent() && y.get() > 0) {
            ratios.put(name, x.get() / y.get());
        }
    }

    private static Optional<BenchRow> find(List<BenchRow> rows, String mode) {
        return rows.stream().filter(r -> r.mode().equals(mode)).findFirst();
    }

    private static Double asDouble(Long v) {
        return v == null ? null : v.doubleValue();
    }
}
