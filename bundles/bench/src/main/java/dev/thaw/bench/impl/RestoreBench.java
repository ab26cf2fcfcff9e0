package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchReport;
import dev.thaw.api.bench.BenchRequest;
import dev.thaw.api.bench.BenchRow;
import dev.thaw.api.bench.RestoreBenchmark;
import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
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
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The restore benchmark (see {@link RestoreBenchmark}). One warm-up round first (the JIT compiles the
 * restore path there, as it would on a platform that has restored before), then the measured rounds,
 * each mode once per round so that the machine's noise falls on all modes alike.
 */
@Component(service = RestoreBenchmark.class)
public final class RestoreBench implements RestoreBenchmark {

    static final String EAGER = "eager";
    static final String WARM = "warm";
    static final String QEMU = "qemu";
    /** hot-page-first with the profile's pages loaded before the guest runs (qemu runtime). */
    static final String PRELOADED = "hot-page-first+preload";
    static final String HOT_PAGE_FIRST = "hot-page-first";
    /** The runtime whose eager restore is QEMU's own load. */
    static final String QEMU_RUNTIME = "qemu";
    private static final Duration INVOCATION_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration FULL_LOAD_TIMEOUT = Duration.ofMinutes(5);
    private static final long SEED = 42;
    /** Host memory warmed beyond the snapshot's present pages: the restored VM's own structures, its page tables. */
    private static final long WARM_SLACK = 64L << 20;

    private final VmManager vms;
    private final SnapshotFormats formats;
    private final InstalledPolicies policies;

    @Activate
    public RestoreBench(@Reference VmManager vms, @Reference SnapshotFormats formats, @Reference InstalledPolicies policies) {
        this.vms = vms;
        this.formats = formats;
        this.policies = policies;
    }

    @Override
    public BenchReport run(BenchRequest request, Consumer<String> progress) {
        Path dir = ResultsFolder.create(request.resultsRoot(), "restore");
        Path snapshot = dir.resolve("guest.snap");
        boolean onQemu = QEMU_RUNTIME.equals(request.runtime());
        List<String> modes = modes(onQemu);
        List<String> notes = new ArrayList<>();
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        modes.forEach(m -> samples.put(m, new ArrayList<>()));
        List<Sample> warm = new ArrayList<>();
        long presentBytes;
        List<PeerRow> peers = new ArrayList<>();
        BootRequest boot = new BootRequest("bench-original", request.memoryBytes(), request.vcpus(), Workload.FUNCTION,
                SEED, request.workingSetBytes(), TouchOrder.SEQUENTIAL, BootRequest.DEFAULT_STRIDE, request.residentBytes(),
                request.writePercent());
        Vm original = request.runtime() == null ? vms.boot(boot) : vms.boot(boot, request.runtime());
        try {
            original.awaitLine("result function", 0, INVOCATION_TIMEOUT);
            progress.accept("snapshotting a " + mib(request.memoryBytes()) + " MiB guest with a "
                    + mib(request.workingSetBytes()) + " MiB working set"
                    + (request.residentBytes() == 0 ? "" : " of " + mib(request.residentBytes()) + " MiB of data")
                    + (request.writePercent() == BootRequest.WRITE_ALL ? "" : ", writing " + request.writePercent()
                            + "% of the pages each invocation reads"));
            presentBytes = original.snapshot(snapshot, true, Progress.NONE).presentPages() * 4096;
            // The invocation every restored copy runs first; the VM that never stopped runs it too.
            Invocation next = original.invoke(INVOCATION_TIMEOUT);
            warm.add(Sample.timesOnly(null, ms(next.elapsed()), null, null, null));
            // Each row starts with as much host memory warm as it will fill (see HostBacking), whatever ran before it.
            long warmBytes = warmBytes(presentBytes);
            // On the qemu runtime the eager row is QEMU's own load; beside it goes QEMU's own start-up. Elsewhere
            // QEMU loads a file of the same present pages, and the same guest saved and restored on the qemu runtime.
            if (onQemu) {
                peers.add(QemuStartRow.prepare(formats, snapshot));
            } else {
                peers.add(QemuRow.prepare(formats, snapshot, request, presentBytes, warmBytes, progress));
                peers.add(QemuEagerRow.prepare(vms, boot, snapshot, warmBytes, progress));
            }
            if (modes.contains(HOT_PAGE_FIRST)) {
                progress.accept("recording a working-set profile for hot-page-first");
                recordProfile(snapshot, request, next.resultLine());
            }
            progress.accept("warm-up round (not in the medians)");
            List<String> firstResumes = new ArrayList<>();
            for (String mode : modes) {
                Sample first = measure(mode, snapshot, request, next.resultLine(), presentBytes);
                firstResumes.add(mode + " " + BarChart.number(first.resumeLatencyMs()));
            }
            peers.forEach(p -> p.measure(false));
            notes.add("resume latency (ms) of the first restore in each mode, in the warm-up round: "
                    + String.join(", ", firstResumes));
            for (int round = 1; round <= request.repeat(); round++) {
                progress.accept("round " + round + " of " + request.repeat() + ": " + String.join(", ", modes) + ", "
                        + (onQemu ? QemuStartRow.MODE : QEMU));
                for (String mode : modes) {
                    samples.get(mode).add(measure(mode, snapshot, request, next.resultLine(), presentBytes));
                }
                peers.forEach(p -> p.measure(true));
                if (round > 1) {
                    warm.add(Sample.timesOnly(null, ms(original.invoke(INVOCATION_TIMEOUT).elapsed()), null, null, null));
                }
            }
        } catch (RuntimeException e) {
            peers.forEach(PeerRow::delete);
            throw e;
        } finally {
            original.stop();
        }
        List<BenchRow> rows = new ArrayList<>();
        samples.forEach((mode, s) -> rows.add(Sample.median(mode, s, note(mode))));
        rows.add(Sample.median(WARM, warm, "the VM that was never stopped: its next invocation in each round"));
        peers.forEach(p -> rows.add(p.row(notes)));
        FloorRow.measure(request, dir, progress, notes).ifPresent(rows::add);
        notes.add("medians of " + request.repeat() + " rounds after one warm-up round; the snapshot ("
                + mib(presentBytes) + " MiB of non-zero memory) is read from the page cache");
        notes.add("FULL LOAD counts to every page loaded and touched once from user space: eager reads into huge pages "
                + "(whose first touch costs next to nothing), QEMU's reads touch what they fill, and a lazy restore's loaders "
                + "touch each page they install (restore engine touchLoaded, on by default; off, FULL LOAD is the bare load "
                + "and the guest pays the first touch); each row starts right after " + mib(warmBytes(presentBytes)) + " MiB of memory was "
                + "touched and freed, so that no row pays for the host taking freed memory back");
        if (onQemu) {
            notes.add("qemu runtime: eager is QEMU's own load (migrate-incoming file:, then cont), its full load its resume; "
                    + "a lazy row's full load is the postcopy serve's completion (QEMU places each page itself), counted from "
                    + "the command as resume is");
        }
        BenchReport report = new BenchReport(request, rows, Ratios.of(rows), notes, dir);
        deleteSnapshot(snapshot);
        ResultsFolder.write(report);
        return report;
    }

    /** Eager first, then the installed policies; on the qemu runtime hot-page-first preloaded too. */
    private List<String> modes(boolean onQemu) {
        List<String> names = policies.ordered().stream().map(PagePolicy::name).toList();
        List<String> modes = new ArrayList<>();
        modes.add(EAGER);
        modes.addAll(names);
        if (onQemu && names.contains(HOT_PAGE_FIRST)) {
            modes.add(modes.indexOf(HOT_PAGE_FIRST) + 1, PRELOADED);
        }
        return modes;
    }

    private static String note(String mode) {
        return switch (mode) {
            case EAGER -> "every page loaded before the vCPUs start";
            case "none" -> "pure demand loading, one 4 KiB page per fault, no background loader";
            case HOT_PAGE_FIRST -> "with the profile recorded on a first restore";
            case PRELOADED -> "hot-page-first, the profile's pages loaded before the guest runs (--preload-working-set)";
            default -> "";
        };
    }

    private void recordProfile(Path snapshot, BenchRequest request, String expected) {
        Vm vm = vms.restore(new RestoreOptions(snapshot, "bench-record", false, HOT_PAGE_FIRST, request.loaderThreads(),
                true), Progress.NONE);
        try {
            check("recording", vm.invoke(INVOCATION_TIMEOUT), expected);
        } finally {
            vm.stop();
        }
    }

    private int restores;

    /** The host memory each row starts warm with (see {@link HostBacking}): as much as it will fill, and some. */
    static long warmBytes(long presentBytes) {
        return presentBytes + WARM_SLACK;
    }

    /**
     * Restores in {@code mode}, invokes, waits for the full load, invokes again; the copy must compute {@code expected}.
     */
    private Sample measure(String mode, Path snapshot, BenchRequest request, String expected, long presentBytes) {
        boolean eager = mode.equals(EAGER);
        String name = "bench-" + (++restores);
        RestoreOptions options = eager ? RestoreOptions.eager(snapshot, name)
                : mode.equals(PRELOADED)
                        ? new RestoreOptions(snapshot, name, false, HOT_PAGE_FIRST, request.loaderThreads(), false).preloadingWorkingSet()
                        : new RestoreOptions(snapshot, name, false, mode, request.loaderThreads(), false);
        HostBacking.warm(warmBytes(presentBytes));
        Vm vm = vms.restore(options, Progress.NONE);
        double resume = ms(vm.info().resumeLatency());
        try {
            Invocation first = vm.invoke(INVOCATION_TIMEOUT);
            check(mode, first, expected);
            if (eager) {
                double second = ms(vm.invoke(INVOCATION_TIMEOUT).elapsed());
                return Sample.timesOnly(resume, ms(first.elapsed()), second, resume, presentBytes / 1e3 / resume);
            }
            boolean loadsAll = !mode.equals("none");
            RestoreStats s = loadsAll ? awaitFullLoad(vm) : vm.restoreStats().orElseThrow();
            double second = ms(vm.invoke(INVOCATION_TIMEOUT).elapsed());
            Double faultCost = s.faults() == 0 ? null : (ms(first.elapsed()) - second) * 1e3 / s.faults();
            Double fullLoad = !loadsAll ? null : s.fullLoadTime() / 1e6;
            return new Sample(resume, ms(first.elapsed()), second, s.faults(), s.faultLatencyP50() / 1e3,
                    s.faultLatencyP99() / 1e3, faultCost, s.pagesFault(), s.pagesPrefetch(), s.pagesBackground(), s.pagesWasted(),
                    fullLoad, s.bandwidth() / 1e6);
        } finally {
            vm.stop();
        }
    }

    private static void check(String mode, Invocation invocation, String expected) {
        if (!invocation.resultLine().equals(expected)) {
            throw new VmException("bench: the " + mode + " restore computed '" + invocation.resultLine()
                    + "', the VM that never stopped '" + expected + "'");
        }
    }

    private static RestoreStats awaitFullLoad(Vm vm) {
        RestoreStats s = vm.awaitLoaded(FULL_LOAD_TIMEOUT, Progress.NONE).orElseThrow();
        if (s.phase() != RestoreStats.Phase.COMPLETE) {
            throw new VmException("bench: " + vm.id() + "'s restore ended " + s.phase());
        }
        return s;
    }

    static double ms(Duration d) {
        return d.toNanos() / 1e6;
    }

    static long mib(long bytes) {
        return bytes >> 20;
    }

    private void deleteSnapshot(Path file) {
        try (var beside = Files.list(file.getParent())) {
            // the snapshot, its profile, and what a runtime keeps beside it (the qemu runtime: its session file)
            for (Path p : beside.filter(p -> p.getFileName().toString().startsWith(file.getFileName().toString())).toList()) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(vms.profileFile(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
