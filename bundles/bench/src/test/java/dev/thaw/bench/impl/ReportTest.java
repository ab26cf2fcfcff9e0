package dev.thaw.bench.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.bench.BenchReport;
import dev.thaw.api.bench.BenchRequest;
import dev.thaw.api.bench.BenchRow;
import dev.thaw.api.restore.RestoreStats;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** How a run's figures become medians, ratios, a results folder and a chart. */
class ReportTest {

    @TempDir
    Path dir;

    private static BenchRow row(String mode, Double resume, Double first, Long faults, Double fullLoad, Double faultCost) {
        return new BenchRow(mode, resume, first, null, faults, null, null, faultCost, null, null, null, null, fullLoad, null, "");
    }

    private static final List<BenchRow> ROWS = List.of(
            row("eager", 40.0, 3.0, null, 40.0, null),
            row("none", 4.0, 800.0, 8000L, null, 90.0),
            row("hot-page-first", 5.0, 6.0, 200L, 30.0, null),
            row("prefetch-window", 8.0, 100.0, 300L, 25.0, null),
            row("warm", null, 2.0, null, null, null),
            row("qemu", null, null, null, 20.0, null),
            row(FloorRow.MODE, null, null, 8192L, null, 75.0));

    @Test
    void mediansSkipMissingFiguresAndAMissingFigureStaysMissing() {
        assertEquals(3.0, Median.of(Arrays.asList(5.0, null, 1.0, 3.0)));
        assertEquals(2.5, Median.of(List.of(4.0, 1.0, 2.0, 3.0)));
        assertNull(Median.of(Arrays.asList(null, null)));
        assertEquals(7L, Median.ofLongs(List.of(9L, 7L, 1L)));
    }

    @Test
    void ratiosAreTheTargetsFiguresAndLeaveOutWhatIsMissing() {
        Map<String, Double> r = Ratios.of(ROWS);
        assertEquals(0.1, r.get("resumeLatency none/eager"), 1e-9);
        assertEquals(0.2, r.get("resumeLatency prefetch-window/eager"), 1e-9);
        assertEquals(3.0, r.get("firstInvocation hot-page-first/warm"), 1e-9);
        assertEquals(0.025, r.get("faults hot-page-first/none"), 1e-9);
        assertEquals(0.125, r.get("firstInvocation prefetch-window/none"), 1e-9);
        assertEquals(1.2, r.get("faultCost none/uffd-floor"), 1e-9);
        assertEquals(1.5, r.get("fullLoad hot-page-first/qemu"), 1e-9);
        assertEquals(2.0, r.get("fullLoad eager/qemu"), 1e-9);
        assertTrue(r.keySet().stream().noneMatch(k -> k.contains("fullLoad none") || k.contains("warm/")
                || k.contains("resumeLatency qemu") || k.contains("resumeLatency uffd-floor")), r.toString());
    }

    /** QEMU's eager restore of the same guest (qemu runtime) is a peer, not a restore mode: the full load targets are against it. */
    @Test
    void theFullLoadTargetsAreAgainstQemusEagerLoadOfTheSameGuest() {
        List<BenchRow> rows = List.of(row("eager", 100.0, 3.0, null, 100.0, null), row("sequential", 4.0, 9.0, 30L, 500.0, null),
                row("none", 4.0, 800.0, 8000L, null, 90.0), row(QemuEagerRow.MODE, 250.0, null, null, 250.0, null));
        Map<String, Double> r = Ratios.of(rows);
        assertEquals(0.4, r.get("fullLoad eager/" + QemuEagerRow.MODE), 1e-9);
        assertEquals(2.0, r.get("fullLoad sequential/" + QemuEagerRow.MODE), 1e-9);
        assertTrue(r.keySet().stream().noneMatch(k -> k.contains("fullLoad none") || k.startsWith("resumeLatency " + QemuEagerRow.MODE)
                || k.startsWith("fullLoad " + QemuEagerRow.MODE)), r.toString());
    }

    /** On the qemu runtime: no QEMU peer row, eager is QEMU's own load, and QEMU's start-up is no restore mode. */
    @Test
    void onQemuTheFullLoadTargetIsAgainstEagerAndQemusStartUpIsNoRestoreMode() {
        List<BenchRow> rows = List.of(row("eager", 400.0, 3.0, null, 400.0, null), row("sequential", 40.0, 9.0, 30L, 500.0, null),
                row("warm", null, 2.0, null, null, null), row(QemuStartRow.MODE, 90.0, null, null, null, null));
        Map<String, Double> r = Ratios.of(rows);
        assertEquals(0.1, r.get("resumeLatency sequential/eager"), 1e-9);
        assertEquals(1.25, r.get("fullLoad sequential/eager"), 1e-9);
        assertTrue(r.keySet().stream().noneMatch(k -> k.contains(QemuStartRow.MODE) || k.contains("/qemu")), r.toString());
    }

    @Test
    void aRequestWritesEveryPageReadUnlessToldAndRefusesAWritePercentOutside1To100() {
        assertEquals(100, new BenchRequest(1L << 30, 32L << 20, 1, 3, 1, dir, null).writePercent());
        assertEquals(100, new BenchRequest(1L << 30, 32L << 20, 1, 3, 1, dir, null, "qemu", 128L << 20).writePercent());
        for (int percent : new int[] {0, 101}) {
            assertEquals("the write percent must be 1 to 100, not " + percent, assertThrows(IllegalArgumentException.class,
                    () -> new BenchRequest(1L << 30, 32L << 20, 1, 3, 1, dir, null, null, 0, percent)).getMessage());
        }
    }

    @Test
    void eachRunGetsItsOwnFolderWithTheJsonAndAChartOfEveryRow() throws Exception {
        BenchRequest request = new BenchRequest(1L << 30, 32L << 20, 1, 3, 1, dir, null, null, 0, 10);
        Path first = ResultsFolder.create(dir, "restore");
        Path second = ResultsFolder.create(dir, "restore");
        assertNotEquals(first, second, "runs started in the same second");
        BenchReport report = new BenchReport(request, ROWS, Ratios.of(ROWS), List.of("a note"), first);
        ResultsFolder.write(report);

        JsonNode json = ResultsFolder.JSON.readTree(first.resolve("results.json").toFile());
        assertEquals(10, json.path("request").path("writePercent").asInt(), "the guest the figures were measured on");
        assertEquals(ROWS.size(), json.path("rows").size());
        assertEquals("none", json.path("rows").path(1).path("mode").asText());
        assertEquals(8000, json.path("rows").path(1).path("faults").asLong());
        assertTrue(json.path("rows").path(0).path("faults").isNull());
        assertEquals(0.1, json.path("ratios").path("resumeLatency none/eager").asDouble(), 1e-9);

        Document svg = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(Files.readString(first.resolve("chart.svg")).getBytes(StandardCharsets.UTF_8)));
        NodeList bars = svg.getElementsByTagName("rect");
        long withResume = ROWS.stream().filter(r -> r.resumeLatencyMs() != null).count();
        long withFirst = ROWS.stream().filter(r -> r.firstInvocationMs() != null).count();
        long withLoad = ROWS.stream().filter(r -> r.fullLoadMs() != null).count();
        assertEquals(withResume + withFirst + withLoad, bars.getLength(), "one bar per figure present");
        // Log scale: in the resume panel (the first bars), eager (40 ms) is wider than none (4 ms).
        assertTrue(width(bars, 0) > width(bars, 1), width(bars, 0) + " vs " + width(bars, 1));
    }

    private static double width(NodeList bars, int i) {
        return Double.parseDouble(((Element) bars.item(i)).getAttribute("width"));
    }
}
