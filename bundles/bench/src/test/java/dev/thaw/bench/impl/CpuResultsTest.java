package dev.thaw.bench.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.bench.CpuBenchReport;
import dev.thaw.api.bench.CpuBenchRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the CPU benchmark's runs become rows, ratios and a results file. */
class CpuResultsTest {

    @TempDir
    Path dir;

    @Test
    void aRowHoldsTheMediansAndTheMedianOfTheRoundsRates() {
        CpuBenchReport.Row r = CpuResults.row("emulated", "fill", List.of(new CpuResults.Run(100_000_000L, 2000),
                new CpuResults.Run(100_000_000L, 1000), new CpuResults.Run(120_000_000L, 1000)), "");
        assertEquals(100_000_000L, r.instructions());
        assertEquals(1000.0, r.ms());
        assertEquals(100.0, r.mips(), 1e-9, "rates 50, 100, 120 M/s");
        assertEquals("emulated fill", r.mode());
        CpuBenchReport.Row unicorn = CpuResults.row("unicorn", "fill-loop", List.of(new CpuResults.Run(null, 5)), "");
        assertNull(unicorn.mips(), "no instruction count, no rate");
    }

    @Test
    void ratiosAreOfInstructionsPerSecondAndLeaveOutWhatIsMissing() {
        List<CpuBenchReport.Row> rows = List.of(
                new CpuBenchReport.Row("emulated", "fill", 1L, 1.0, 40.0, ""),
                new CpuBenchReport.Row("emulated", "fill-loop", 1L, 1.0, 80.0, ""),
                new CpuBenchReport.Row("unicorn", "fill-loop", 1L, 1.0, 320.0, ""),
                CpuResults.missing("kvm", "fill", "kvm row skipped: /dev/kvm is absent"));
        Map<String, Double> ratios = CpuResults.ratios(rows);
        assertEquals(Map.of("fill-loop emulated/unicorn", 0.25), ratios);
    }

    @Test
    void theResultsFileHoldsRowsRatiosProfileAndNotes() throws Exception {
        Path folder = ResultsFolder.create(dir, "cpu");
        List<CpuBenchReport.Row> rows = List.of(new CpuBenchReport.Row("emulated", "fill-loop", 10L, 1.0, 0.01, "how"),
                new CpuBenchReport.Row("unicorn", "fill-loop", 10L, 0.5, 0.02, "how"));
        CpuBenchReport report = new CpuBenchReport(new CpuBenchRequest(64L << 20, 3, dir), rows, CpuResults.ratios(rows),
                new CpuBenchReport.Profile(10, List.of(new CpuBenchReport.Frame("Executor.execute", 6, 0.6)), "jfr"),
                List.of("a note"), folder);
        CpuResults.write(report);
        JsonNode json = ResultsFolder.JSON.readTree(folder.resolve("results.json").toFile());
        assertEquals("unicorn", json.path("rows").path(1).path("runner").asText());
        assertEquals(0.5, json.path("ratios").path("fill-loop emulated/unicorn").asDouble(), 1e-9);
        assertEquals("Executor.execute", json.path("profile").path("top").path(0).path("method").asText());
        assertEquals(64L << 20, json.path("request").path("memoryBytes").asLong());
    }
}
