package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchReport;
import dev.thaw.api.bench.BenchRow;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The restore benchmark as an SVG: one panel per figure (resume latency, first invocation, full load),
 * a bar per mode on a log scale, since the modes differ by orders of magnitude.
 */
final class BarChart {

    private record Panel(String title, Function<BenchRow, Double> value) {}

    private static final List<Panel> PANELS = List.of(
            new Panel("resume latency (ms)", BenchRow::resumeLatencyMs),
            new Panel("first invocation (ms)", BenchRow::firstInvocationMs),
            new Panel("full load (ms)", BenchRow::fullLoadMs));
    private static final int LABEL = 130;
    private static final int BAR_AREA = 360;
    private static final int ROW = 18;
    private static final String[] COLORS = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
        "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

    private BarChart() {}

    static String of(BenchReport report) {
        List<BenchRow> rows = report.rows();
        int panelHeight = 30 + rows.size() * ROW + 10;
        int width = LABEL + BAR_AREA + 90;
        int height = 40 + PANELS.size() * panelHeight;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", width, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"22\" font-size=\"14\" font-weight=\"bold\">Thaw restore: "
                + "%d MiB guest, %d MiB working set (log scale)</text>%n", report.request().memoryBytes() >> 20,
                report.request().workingSetBytes() >> 20));
        int y = 40;
        for (Panel p : PANELS) {
            panel(svg, p, rows, y);
            y += panelHeight;
        }
        return svg.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder svg, Panel p, List<BenchRow> rows, int top) {
        double max = rows.stream().map(p.value()).filter(v -> v != null && v > 0).mapToDouble(Double::doubleValue).max().orElse(1);
        double min = rows.stream().map(p.value()).filter(v -> v != null && v > 0).mapToDouble(Double::doubleValue).min().orElse(1);
        double low = Math.pow(10, Math.floor(Math.log10(min)) - 0.3);
        double span = Math.log10(max) - Math.log10(low);
        svg.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>%n", top + 16, p.title()));
        for (int i = 0; i < rows.size(); i++) {
            BenchRow r = rows.get(i);
            int y = top + 26 + i * ROW;
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", LABEL - 8, y + 12,
                    escape(r.mode())));
            Double v = p.value().apply(r);
            if (v == null || v <= 0) {
                svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#888\">n/a</text>%n", LABEL, y + 12));
                continue;
            }
            double w = Math.max(1, BAR_AREA * (Math.log10(v) - Math.log10(low)) / span);
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n", LABEL, y,
                    w, ROW - 4, COLORS[i % COLORS.length]));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%s</text>%n", LABEL + w + 4, y + 12, number(v)));
        }
    }

    static String number(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : v >= 10 ? String.format(Locale.ROOT, "%.1f", v)
                : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
