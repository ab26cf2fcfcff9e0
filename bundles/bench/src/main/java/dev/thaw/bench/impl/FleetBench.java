package dev.thaw.bench.impl;

import dev.thaw.api.bench.FleetBenchReport;
import dev.thaw.api.bench.FleetBenchRequest;
import dev.thaw.api.bench.FleetBenchmark;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreSettings;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import dev.thaw.api.vm.Workload;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The fleet benchmark (see {@link FleetBenchmark}). A warm-up comes first: each mode with at most 2 VMs (the JIT
 * compiles the restore paths there), then N lazy restores (the process grows what N VMs' threads make it grow); then
 * one row per mode.
 */
@Component(service = FleetBenchmark.class)
public final class FleetBench implements FleetBenchmark {

    static final long SEED = 42;
    /** Per invocation and per full load: 16 emulated VMs share 2 cores here. */
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    /** Memory a row's VMs may leave in the process after they stopped before the notes say so. */
    static final double LEFT_SHARE = 0.1;
    static final String HOST_RATIO = "hostMemory shared/(snapshot+written)";
    static final String PSS_RATIO = "pssGain shared/(snapshot+written)";
    static final String TIME_RATIO = "allAnswered shared/lazy";

    private final VmManager vms;

    @Activate
    public FleetBench(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public FleetBenchReport run(FleetBenchRequest request, Consumer<String> progress) {
        refuseWhatDoesNotFit(request);
        long started = System.nanoTime();
        Path dir = ResultsFolder.create(request.resultsRoot(), "fleet");
        Path snapshot = dir.resolve("guest.snap");
        try {
            progress.accept("snapshotting a " + mib(request.memoryBytes()) + " MiB function guest with a "
                    + mib(request.workingSetBytes()) + " MiB working set"
                    + (request.residentBytes() == FleetBenchRequest.RESIDENT_AS_WORKING_SET ? ""
                            : " of " + mib(request.residentBytes()) + " MiB of data")
                    + ", writing " + request.writePercent() + "% of the pages each invocation reads, after one invocation");
            Vm original = vms.boot(new BootRequest("bench-fleet-original", request.memoryBytes(), 1, Workload.FUNCTION, SEED,
                    request.workingSetBytes(), TouchOrder.SEQUENTIAL, BootRequest.DEFAULT_STRIDE,
                    request.residentBytes(), request.writePercent()));
            long presentBytes;
            String answer;
            try {
                original.awaitLine("result function", 0, TIMEOUT);
                original.invoke(TIMEOUT);
                presentBytes = original.snapshot(snapshot, true, Progress.NONE).presentPages() * 4096;
                answer = original.invoke(TIMEOUT).resultLine(); // what every restored VM must answer first
            } finally {
                original.stop();
            }
            FleetRow row = new FleetRow(vms, snapshot, answer, TIMEOUT);
            progress.accept("warm-up (not in the table): each mode with " + Math.min(2, request.count()) + " VMs, then lazy with "
                    + request.count());
            for (String mode : FleetRow.MODES) {
                row.measure(mode, "bench-fleet-warm-" + mode, Math.min(2, request.count()));
            }
            // The process keeps what N VMs' threads made it grow (glibc's cache of thread stacks, malloc arenas): grown
            // here, it is not counted as the first row's memory. Lazy restores have the most threads per VM.
            row.measure(FleetRow.LAZY, "bench-fleet-warm-all", request.count());
            List<FleetBenchReport.Row> rows = new ArrayList<>();
            for (String mode : FleetRow.MODES) {
                progress.accept(mode + ": " + request.count() + " VMs");
                rows.add(row.measure(mode, "bench-fleet-" + mode, request.count()));
            }
            List<String> notes = notes(rows, presentBytes, (System.nanoTime() - started) / 1e9);
            FleetBenchReport report = new FleetBenchReport(request, presentBytes, answer, rows, ratios(rows, presentBytes),
                    notes, dir);
            write(report);
            return report;
        } finally {
            delete(snapshot);
        }
    }

    /** Refuses, in one line, a request whose eager or independent row would not fit the host's free memory. */
    private static void refuseWhatDoesNotFit(FleetBenchRequest request) {
        // Each VM of those rows holds its working set and the guest's own pages (under 4 MiB).
        long needed = request.count() * (request.workingSetBytes() + (4L << 20));
        long available = ProcessMemory.hostAvailable();
        if (needed > available) {
            throw new IllegalArgumentException(request.count() + " VMs with a " + mib(request.workingSetBytes())
                    + " MiB working set need about " + mib(needed) + " MiB in the eager and lazy rows; the host has "
                    + mib(available) + " MiB available (MemAvailable in " + ProcessMemory.MEMINFO + "): lower --count or "
                    + "--working-set");
        }
    }

    /** The ratios the targets are stated in, and a few beside them; one with a missing side is left out. */
    static Map<String, Double> ratios(List<FleetBenchReport.Row> rows, long presentBytes) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        Optional<FleetBenchReport.Row> shared = find(rows, FleetRow.SHARED);
        Optional<FleetBenchReport.Row> lazy = find(rows, FleetRow.LAZY);
        Optional<FleetBenchReport.Row> eager = find(rows, FleetRow.EAGER);
        shared.filter(s -> s.writtenBytes() != null).ifPresent(s -> {
            double floor = presentBytes + s.writtenBytes();
            ratios.put(HOST_RATIO, s.hostBytes() / floor);
            ratios.put(PSS_RATIO, s.pssGainBytes() / floor);
            // What the process gave back when the VMs stopped: their memory without the process's own growth.
            ratios.put("pssFreed shared/(snapshot+written)", (s.pssGainBytes() - s.pssLeftBytes()) / floor);
        });
        shared.ifPresent(s -> {
            lazy.ifPresent(l -> ratios.put(TIME_RATIO, s.allAnsweredMs() / l.allAnsweredMs()));
            eager.ifPresent(e -> ratios.put("allAnswered shared/eager", s.allAnsweredMs() / e.allAnsweredMs()));
            lazy.ifPresent(l -> ratios.put("hostMemory shared/lazy", (double) s.hostBytes() / l.hostBytes()));
        });
        return ratios;
    }

    private List<String> notes(List<FleetBenchReport.Row> rows, long presentBytes, double seconds) {
        RestoreSettings settings = vms.restoreSettings();
        List<String> notes = new ArrayList<>();
        notes.add("each row: the restore command for N VMs; when it returned, one invocation sent to every VM at once, a "
                + "thread each; ALL ANSWERED when the last answered; memory read once every VM was fully loaded");
        notes.add("lazy rows: the default policy " + settings.defaultPolicy() + " with " + settings.loaderThreads()
                + " loader threads per VM");
        notes.add("HOST: Thaw's figure for the fleet (shared: its page cache once plus each VM's own pages); PSS GAIN: "
                + "what the process's Pss (/proc/self/smaps_rollup) grew by since before the restore, VM threads and "
                + "the JVM's own growth included; WRITTEN: the pages the shared fleet's guests wrote (their own copies)");
        notes.add("the snapshot holds " + mib(presentBytes) + " MiB of non-zero pages, read from the page cache; targets: "
                + HOST_RATIO + " <= 1.5, " + TIME_RATIO + " <= 1.0");
        for (FleetBenchReport.Row r : rows) {
            if (r.pssLeftBytes() > LEFT_SHARE * r.hostBytes()) {
                notes.add(r.mode() + ": " + mib(r.pssLeftBytes()) + " MiB of the process's Pss did not come back after its "
                        + "VMs stopped (more than " + Math.round(100 * LEFT_SHARE) + "% of the " + mib(r.hostBytes())
                        + " MiB they held); the fleet and its page cache's mappings are gone, so this is the process's "
                        + "own growth (Java heap, malloc arenas)");
            }
        }
        notes.add(String.format(java.util.Locale.ROOT, "the run took %.0f s, warm-up and snapshot included", seconds));
        return notes;
    }

    private static Optional<FleetBenchReport.Row> find(List<FleetBenchReport.Row> rows, String mode) {
        return rows.stream().filter(r -> r.mode().equals(mode)).findFirst();
    }

    private static void write(FleetBenchReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("request", report.request());
        json.put("presentBytes", report.presentBytes());
        json.put("answer", report.answer());
        json.put("rows", report.rows());
        json.put("ratios", report.ratios());
        json.put("notes", report.notes());
        ResultsFolder.writeJson(report.resultsDir(), json);
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file + ": " + e.getMessage(), e);
        }
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }
}
