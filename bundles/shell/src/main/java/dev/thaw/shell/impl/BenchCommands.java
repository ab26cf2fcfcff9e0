package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.bench.BenchReport;
import dev.thaw.api.bench.BenchRequest;
import dev.thaw.api.bench.BenchRow;
import dev.thaw.api.bench.CpuBenchReport;
import dev.thaw.api.bench.CpuBenchRequest;
import dev.thaw.api.bench.CpuBenchmark;
import dev.thaw.api.bench.FileLoadBenchmark;
import dev.thaw.api.bench.FileLoadReport;
import dev.thaw.api.bench.FileLoadRequest;
import dev.thaw.api.bench.FleetBenchReport;
import dev.thaw.api.bench.FleetBenchRequest;
import dev.thaw.api.bench.FleetBenchmark;
import dev.thaw.api.bench.RestoreBenchmark;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code thaw:bench restore}: every restore mode side by side in one run (see {@link RestoreBenchmark});
 * {@code thaw:bench qemu-file FILE}: loading a file's RAM with each policy beside QEMU (see {@link FileLoadBenchmark});
 * {@code thaw:bench cpu}: the emulated vCPU's instructions per second beside Unicorn and KVM (see {@link CpuBenchmark});
 * {@code thaw:bench fleet}: N VMs from one snapshot, sharing its pages, lazy and eager (see {@link FleetBenchmark}).
 */
@Component(service = BenchCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=bench"
})
public final class BenchCommands {

    private final RestoreBenchmark restoreBenchmark;
    private final FileLoadBenchmark fileLoadBenchmark;
    private final CpuBenchmark cpuBenchmark;
    private final FleetBenchmark fleetBenchmark;
    private final ObjectMapper json = new ObjectMapper();

    @Activate
    public BenchCommands(@Reference RestoreBenchmark restoreBenchmark, @Reference FileLoadBenchmark fileLoadBenchmark,
            @Reference CpuBenchmark cpuBenchmark, @Reference FleetBenchmark fleetBenchmark) {
        this.restoreBenchmark = restoreBenchmark;
        this.fileLoadBenchmark = fileLoadBenchmark;
        this.cpuBenchmark = cpuBenchmark;
        this.fleetBenchmark = fleetBenchmark;
    }

    @Descriptor("benchmark side by side: 'restore' snapshots a function guest, restores it eagerly and with each policy, "
            + "invokes it, and writes results.json and chart.svg into a new folder under --results; 'qemu-file FILE' loads a "
            + "file's RAM with each policy beside QEMU; 'cpu' measures the emulated vCPU's instructions per second beside "
            + "Unicorn and KVM, with a profile; 'fleet' restores N VMs from one snapshot as a shared fleet, N lazy and N eager "
            + "restores, and compares the time until all answered and their host memory (the defaults take 20-30 s on 2 "
            + "shared cores with the emulated runtime)")
    public void bench(
            CommandSession session,
            @Descriptor("guest RAM (default 1G for restore, 256M for fleet, 64M for cpu)") @Parameter(names = {"-m", "--memory"}, absentValue = "")
            String memory,
            @Descriptor("restore, fleet: memory the guest's function reads and writes per invocation (default 32M)")
            @Parameter(names = "--working-set", absentValue = "") String workingSet,
            @Descriptor("restore: memory the guest's function holds data in, of which each invocation touches its working set "
                    + "(default: the working set alone)") @Parameter(names = "--resident", absentValue = "") String resident,
            @Descriptor("restore, fleet: percent of the pages each invocation of the guest's function reads that it also "
                    + "writes, 1 to 100 (default 100; fleet 10)") @Parameter(names = "--write-percent", absentValue = "") String writePercent,
            @Descriptor("restore: vCPUs (default 1)") @Parameter(names = "--vcpus", absentValue = "") String vcpus,
            @Descriptor("restore, qemu-file, cpu: measured rounds; figures are medians (default 3)")
            @Parameter(names = "--repeat", absentValue = "") String repeat,
            @Descriptor("fleet: VMs of each row, 1 to 256 (default 16)") @Parameter(names = "--count", absentValue = "") String count,
            @Descriptor("restore, qemu-file: background loader threads of each lazy restore (default 2)")
            @Parameter(names = "--loader-threads", absentValue = "") String loaderThreads,
            @Descriptor("folder that gets one results folder per run (default var/bench)")
            @Parameter(names = "--results", absentValue = "var/bench") String results,
            @Descriptor("restore: C source of the userfaultfd cost floor to run beside Thaw's demand faults, e.g. "
                    + "../shared/tools/uffd-floor.c (needs gcc; default: not run)")
            @Parameter(names = "--floor", absentValue = "") String floor,
            @Descriptor("restore: the runtime the guest boots and is restored on (default: the platform's); on qemu the "
                    + "eager row is QEMU's own load, with QEMU's start-up beside") @Parameter(names = "--runtime", absentValue = "")
            String runtime,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("the benchmark: restore, qemu-file FILE (a QEMU mapped-ram file, or file:PATH,offset=N), cpu, or fleet")
            String which,
            @Descriptor("qemu-file: the file") String... file) throws JsonProcessingException {
        if (which.equals("cpu")) {
            refuse("cpu", file.length > 0 ? "a file" : "", workingSet.isEmpty() ? "" : "--working-set",
                    resident.isEmpty() ? "" : "--resident", writePercent.isEmpty() ? "" : "--write-percent",
                    vcpus.isEmpty() ? "" : "--vcpus",
                    loaderThreads.isEmpty() ? "" : "--loader-threads", floor.isEmpty() ? "" : "--floor",
                    runtime.isEmpty() ? "" : "--runtime", count.isEmpty() ? "" : "--count");
            CpuBenchRequest request = new CpuBenchRequest(Sizes.parse("--memory", or(memory, "64M")),
                    Options.positiveInt("--repeat", or(repeat, "3")), Arguments.file(session, results));
            PrintStream err = System.err;
            CpuBenchReport report = cpuBenchmark.run(request, line -> err.println("bench: " + line));
            printCpu(report, asJson, session.getConsole());
            return;
        }
        if (which.equals("qemu-file")) {
            if (file.length != 1) {
                throw new IllegalArgumentException("thaw:bench qemu-file takes one file, not " + file.length);
            }
            refuse("qemu-file", memory.isEmpty() ? "" : "--memory", workingSet.isEmpty() ? "" : "--working-set",
                    resident.isEmpty() ? "" : "--resident", writePercent.isEmpty() ? "" : "--write-percent",
                    vcpus.isEmpty() ? "" : "--vcpus", floor.isEmpty() ? "" : "--floor", runtime.isEmpty() ? "" : "--runtime",
                    count.isEmpty() ? "" : "--count");
            Arguments.SnapshotLocation at = Arguments.snapshot(session, file[0]);
            FileLoadRequest request = new FileLoadRequest(at.file(), at.offset(), Options.positiveInt("--repeat", or(repeat, "3")),
                    Options.positiveInt("--loader-threads", or(loaderThreads, "2")), Arguments.file(session, results));
            PrintStream err = System.err;
            FileLoadReport report = fileLoadBenchmark.run(request, line -> err.println("bench: " + line));
            printFileLoad(report, asJson, session.getConsole());
            return;
        }
        if (which.equals("fleet") && file.length == 0) {
            refuse("fleet", vcpus.isEmpty() ? "" : "--vcpus",
                    repeat.isEmpty() ? "" : "--repeat", loaderThreads.isEmpty() ? "" : "--loader-threads",
                    floor.isEmpty() ? "" : "--floor", runtime.isEmpty() ? "" : "--runtime");
            FleetBenchRequest request = new FleetBenchRequest(
                    count.isEmpty() ? FleetBenchRequest.DEFAULT_COUNT : Options.positiveInt("--count", count),
                    memory.isEmpty() ? FleetBenchRequest.DEFAULT_MEMORY : Sizes.parse("--memory", memory),
                    workingSet.isEmpty() ? FleetBenchRequest.DEFAULT_WORKING_SET : Sizes.parse("--working-set", workingSet),
                    writePercent.isEmpty() ? FleetBenchRequest.DEFAULT_WRITE_PERCENT : Options.percent("--write-percent", writePercent),
                    Arguments.file(session, results),
                    resident.isEmpty() ? FleetBenchRequest.RESIDENT_AS_WORKING_SET : Sizes.parse("--resident", resident));
            PrintStream err = System.err;
            FleetBenchReport report = fleetBenchmark.run(request, line -> err.println("bench: " + line));
            PrintStream out = session.getConsole();
            if (asJson) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("presentBytes", report.presentBytes());
                m.put("answer", report.answer());
                out.println(json.writeValueAsString(results(m, report.rows(), report.ratios(), report.notes(), report.resultsDir())));
                return;
            }
            FleetBenchTable.print(report, out);
            ratiosAndNotes(report.ratios(), report.notes(), out);
            out.println("results: " + report.resultsDir().resolve("results.json"));
            return;
        }
        if (!which.equals("restore") || file.length > 0) {
            throw new IllegalArgumentException("unknown benchmark '" + String.join(" ", which, String.join(" ", file)).strip()
                    + "' (there are: restore, qemu-file FILE, cpu, fleet)");
        }
        refuse("restore", count.isEmpty() ? "" : "--count");
        BenchRequest request = new BenchRequest(Sizes.parse("--memory", or(memory, "1G")), Sizes.parse("--working-set", or(workingSet, "32M")),
                Options.positiveInt("--vcpus", or(vcpus, "1")), Options.positiveInt("--repeat", or(repeat, "3")),
                Options.positiveInt("--loader-threads", or(loaderThreads, "2")), Arguments.file(session, results),
                floor.isEmpty() ? null : Arguments.file(session, floor), runtime.isEmpty() ? null : runtime,
                resident.isEmpty() ? 0 : Sizes.parse("--resident", resident),
                Options.percent("--write-percent", or(writePercent, "100")));
        PrintStream err = System.err;
        BenchReport report = restoreBenchmark.run(request, line -> err.println("bench: " + line));
        PrintStream out = session.getConsole();
        if (asJson) {
            out.println(json.writeValueAsString(results(new LinkedHashMap<>(), report.rows(), report.ratios(), report.notes(),
                    report.resultsDir())));
            return;
        }
        print(report, out);
    }

    private static String or(String given, String fallback) {
        return given.isEmpty() ? fallback : given;
    }

    /** Refuses the options (non-empty names) that {@code benchmark} does not take. */
    private static void refuse(String benchmark, String... given) {
        List<String> named = java.util.Arrays.stream(given).filter(g -> !g.isEmpty()).toList();
        if (!named.isEmpty()) {
            throw new IllegalArgumentException("thaw:bench " + benchmark + " does not take " + String.join(", ", named));
        }
    }

    /** The CPU benchmark's rows, ratios, profile and notes, or its JSON. */
    private void printCpu(CpuBenchReport report, boolean asJson, PrintStream out) throws JsonProcessingException {
        if (asJson) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("profile", report.profile());
            out.println(json.writeValueAsString(results(m, report.rows(), report.ratios(), report.notes(), report.resultsDir())));
            return;
        }
        printCpu(report, out);
    }

    static void printCpu(CpuBenchReport report, PrintStream out) {
        Table table = new Table("RUNNER", "WORKLOAD", "INSTRUCTIONS", "ms", "M INSTR/s", "HOW").numeric(2, 3, 4);
        for (CpuBenchReport.Row r : report.rows()) {
            table.row(r.runner(), r.workload(), n(r.instructions()), n(r.ms()), n(r.mips()), r.note());
        }
        table.print(out);
        out.println();
        CpuBenchReport.Profile p = report.profile();
        out.println("where the emulated vCPU's time goes (" + p.samples() + " samples): " + p.note());
        if (!p.top().isEmpty()) {
            Table top = new Table("SHARE", "SAMPLES", "METHOD").numeric(0, 1);
            for (CpuBenchReport.Frame f : p.top()) {
                top.row(String.format(Locale.ROOT, "%.1f%%", 100 * f.share()), f.samples(), f.method());
            }
            top.print(out);
        }
        ratiosAndNotes(report.ratios(), report.notes(), out);
        out.println("results: " + report.resultsDir().resolve("results.json")
                + (p.samples() > 0 ? ", " + report.resultsDir().resolve("profile.jfr") : ""));
    }

    /** {@code m} with the keys every benchmark's JSON ends with. */
    private static Map<String, Object> results(Map<String, Object> m, List<?> rows, Map<String, Double> ratios,
            List<String> notes, java.nio.file.Path dir) {
        m.put("rows", rows);
        m.put("ratios", ratios);
        m.put("notes", notes);
        m.put("resultsDir", dir.toString());
        return m;
    }

    static void print(BenchReport report, PrintStream out) {
        Table table = new Table("MODE", "RESUME ms", "1ST INVOKE ms", "WARM INVOKE ms", "FAULTS", "P50 us", "P99 us",
                "us/FAULT", "PAGES fault/prefetch/bg", "WASTED", "FULL LOAD ms", "MB/s").numeric(1, 2, 3, 4, 5, 6, 7, 9, 10, 11);
        for (BenchRow r : report.rows()) {
            table.row(r.mode(), n(r.resumeLatencyMs()), n(r.firstInvocationMs()), n(r.warmInvocationMs()), n(r.faults()),
                    n(r.faultLatencyP50Us()), n(r.faultLatencyP99Us()), n(r.faultCostUs()), pages(r), n(r.wastedPages()), n(r.fullLoadMs()),
                    n(r.bandwidthMBps()));
        }
        table.print(out);
        ratiosAndNotes(report.ratios(), report.notes(), out);
        out.println("results: " + report.resultsDir().resolve("results.json") + ", " + report.resultsDir().resolve("chart.svg"));
    }

    /** After a benchmark's table: its ratios, then its notes. */
    private static void ratiosAndNotes(Map<String, Double> ratios, List<String> notes, PrintStream out) {
        out.println();
        Table table = new Table("RATIO", "VALUE").numeric(1);
        ratios.forEach((name, value) -> table.row(name, String.format(Locale.ROOT, "%.3f", value)));
        table.print(out);
        out.println();
        notes.forEach(n -> out.println("note: " + n));
    }

    private void printFileLoad(FileLoadReport report, boolean asJson, PrintStream out) throws JsonProcessingException {
        if (asJson) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", report.format());
            m.put("region", report.region());
            m.put("regionBytes", report.regionBytes());
            m.put("presentBytes", report.presentBytes());
            m.put("openMs", report.openMs());
            out.println(json.writeValueAsString(results(m, report.rows(), report.ratios(), report.notes(), report.resultsDir())));
            return;
        }
        out.printf("%s (%s): %s, %s, %s of it present; opened (headers and bitmaps) in %s ms%n", report.request().file(),
                report.format(), report.region(), Sizes.format(report.regionBytes()), Sizes.format(report.presentBytes()),
                n(report.openMs()));
        Table table = new Table("MODE", "FULL LOAD ms", "LOAD ms", "MB/s", "HOW").numeric(1, 2, 3);
        for (FileLoadReport.Row r : report.rows()) {
            table.row(r.mode(), n(r.fullLoadMs()), n(r.bareLoadMs()), n(r.bandwidthMBps()), r.note());
        }
        table.print(out);
        ratiosAndNotes(report.ratios(), report.notes(), out);
        out.println("results: " + report.resultsDir().resolve("results.json"));
    }

    private static String pages(BenchRow r) {
        return r.pagesFault() == null ? "-" : r.pagesFault() + "/" + r.pagesPrefetch() + "/" + r.pagesBackground();
    }

    private static String n(Long v) {
        return v == null ? "-" : Long.toString(v);
    }

    private static String n(Double v) {
        if (v == null) {
            return "-";
        }
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : v >= 10 ? String.format(Locale.ROOT, "%.1f", v)
                : String.format(Locale.ROOT, "%.2f", v);
    }
}
