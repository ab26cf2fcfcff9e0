package dev.thaw.bench.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.bench.FleetBenchReport;
import dev.thaw.api.bench.FleetBenchRequest;
import dev.thaw.machine.impl.TestPlatform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code thaw:bench fleet} run for real on a small fleet: its rows must be the figures of what it restored. */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(600)
class FleetBenchTest {

    static final long MEMORY = 256L << 20;
    static final long WORKING_SET = 32L << 20;
    static final int COUNT = 2;
    /** The guest README's known answer for function, 256 MiB, seed 42, working set 32 MiB, write percent 10: invocation 2. */
    static final String SECOND_INVOCATION = "result function a1109b6739efaef1";

    @TempDir
    Path dir;
    @Parameter
    String runtime;

    @Test
    void everyVmAnswersTheKnownAnswerAndTheSharedFleetHoldsTheSnapshotOnce() throws Exception {
        List<String> progress = new ArrayList<>();
        FleetBenchReport report;
        try (TestPlatform platform = new TestPlatform(runtime)) {
            report = new FleetBench(platform.vms()).run(new FleetBenchRequest(COUNT, MEMORY, WORKING_SET, 10, dir), progress::add);
            assertEquals(List.of(), platform.vms().list().stream().map(vm -> vm.id()).toList(), "no VM of the bench is left");
            assertEquals(List.of(), platform.vms().fleets(), "no fleet of the bench is left");
        }
        assertEquals(List.of(), Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("thaw-cache")).toList(),
                "no mapping of a shared page cache is left");
        System.out.println(String.join("\n", progress));
        report.rows().forEach(System.out::println);
        System.out.println(report.ratios() + "\n" + String.join("\n", report.notes()));

        // Snapshotted after one invocation, so every restored VM's first invocation is the guest's second.
        assertEquals(SECOND_INVOCATION, report.answer());
        assertEquals(List.of("shared", "lazy", "eager"), report.rows().stream().map(FleetBenchReport.Row::mode).toList());
        long present = report.presentBytes();
        assertTrue(present >= WORKING_SET && present < WORKING_SET + (4L << 20), "the working set and the guest's pages: " + present);
        for (FleetBenchReport.Row r : report.rows()) {
            assertEquals(COUNT, r.vms(), r.toString());
            assertEquals(COUNT, r.answered(), r.toString());
            assertTrue(r.restoreMs() > 0 && r.allAnsweredMs() > r.restoreMs() && r.allLoadedMs() >= r.allAnsweredMs(), r.toString());
            assertTrue(r.hostBytes() > 0 && r.pssGainBytes() > 0, r.toString());
            assertTrue(r.pssLeftBytes() < r.hostBytes() / 4, "the memory of " + r.mode() + " came back: " + r);
        }
        FleetBenchReport.Row shared = report.rows().get(0);
        FleetBenchReport.Row lazy = report.rows().get(1);
        FleetBenchReport.Row eager = report.rows().get(2);
        // Each independent VM holds every stored page once fully loaded; the shared fleet holds them once.
        for (FleetBenchReport.Row independent : List.of(lazy, eager)) {
            assertTrue(independent.hostBytes() >= COUNT * present, independent.toString());
            assertNull(independent.writtenBytes(), independent.toString());
        }
        assertTrue(shared.hostBytes() < lazy.hostBytes() && shared.hostBytes() < eager.hostBytes(), report.rows().toString());
        // Each invocation writes in about a tenth of its working set's pages: a private copy each.
        long written = shared.writtenBytes();
        assertTrue(written > COUNT * WORKING_SET / 20 && written < COUNT * WORKING_SET / 5, "written " + written);
        assertTrue(shared.hostBytes() >= present + written, shared.toString());
        assertTrue(Math.abs(shared.pssGainBytes() - shared.hostBytes()) < shared.hostBytes() / 4,
                "the process gained about what the fleet reports: " + shared);
        assertEquals(shared.hostBytes() / (double) (present + written), report.ratios().get(FleetBench.HOST_RATIO), 1e-9);
        assertEquals(shared.allAnsweredMs() / lazy.allAnsweredMs(), report.ratios().get(FleetBench.TIME_RATIO), 1e-9);

        JsonNode json = ResultsFolder.JSON.readTree(Files.readString(report.resultsDir().resolve("results.json")));
        assertEquals(SECOND_INVOCATION, json.get("answer").asText());
        assertEquals(3, json.get("rows").size());
        assertEquals(shared.hostBytes(), json.get("rows").get(0).get("hostBytes").asLong());
        assertEquals(COUNT, json.get("request").get("count").asInt());
        assertTrue(Files.notExists(report.resultsDir().resolve("guest.snap")), "the snapshot is deleted");
    }
}
