package dev.thaw.bench.impl;

import dev.thaw.api.bench.FileLoadBenchmark;
import dev.thaw.api.bench.FileLoadReport;
import dev.thaw.api.bench.FileLoadRequest;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.restore.HostRegion;
import dev.thaw.api.restore.LazyRestore;
import dev.thaw.api.restore.LazyRestorer;
import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * {@code thaw:bench qemu-file FILE}: the file's largest RAM block loaded into fresh anonymous memory, round
 * after round: by a plain eager read, by each policy's background loaders through userfaultfd (nothing
 * faults: this is the loaders' pace), by QEMU's own eager load of the whole file, and by Thaw serving the
 * file to a destination QEMU through postcopy with each policy (when the qemu-postcopy bundle is there).
 */
@Component(service = FileLoadBenchmark.class)
public final class FileLoadBench implements FileLoadBenchmark {

    static final String EAGER = "thaw-eager";
    /** Longer than any load of a guest that fits this machine takes. */
    static final long LOAD_TIMEOUT_S = 120;
    /** Bytes read at a time by the eager row. */
    static final long EAGER_CHUNK = 64L << 20;

    private final SnapshotFormats formats;
    private final LazyRestorer restorer;
    private final InstalledPolicies policies;
    /** Optional: without the qemu-postcopy bundle the postcopy rows say why they are missing. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PostcopyServer postcopyServer;

    @Activate
    public FileLoadBench(@Reference SnapshotFormats formats, @Reference LazyRestorer restorer,
            @Reference InstalledPolicies policies) {
        this.formats = formats;
        this.restorer = restorer;
        this.policies = policies;
    }

    @Override
    public FileLoadReport run(FileLoadRequest request, Consumer<String> progress) {
        try (SnapshotReader reader = formats.open(request.file(), request.offset())) {
            int main = largest(reader);
            SnapshotRegion region = reader.regions().get(main);
            long presentBytes = region.presentPages() * region.pageSize();
            SnapshotReader view = new OneRegion(reader, main);
            // none loads on demand only: with nothing faulting it would never finish
            List<PagePolicy> loading = policies.ordered().stream().filter(p -> !p.name().equals("none")).toList();
            List<String> notes = new ArrayList<>();
            QemuFileLoad prepared = QemuFileLoad.prepare(reader, request.file(), request.offset(), notes);
            try {
                return measure(request, reader, view, region, presentBytes, loading, prepared, notes, progress);
            } finally {
                if (prepared != null) {
                    prepared.delete(); // its firmware file, shared by QEMU's row and the postcopy rows
                }
            }
        }
    }

    private FileLoadReport measure(FileLoadRequest request, SnapshotReader reader, SnapshotReader view, SnapshotRegion region,
            long presentBytes, List<PagePolicy> loading, QemuFileLoad prepared, List<String> notes, Consumer<String> progress) {
        QemuFileLoad qemu = prepared;
        PostcopyRows postcopy = PostcopyRows.prepare(postcopyServer, prepared, policies.ordered(), notes);
        Map<String, List<Double>> times = new LinkedHashMap<>();
        List<Double> opens = new ArrayList<>();
        for (int round = 0; round <= request.repeat(); round++) {
            progress.accept(round == 0 ? "warm-up round" : "round " + round + " of " + request.repeat());
            double open = open(request);
            if (round > 0) {
                opens.add(open);
            }
            record(times, EAGER, round, eager(view, region));
            for (PagePolicy p : loading) {
                record(times, p.name(), round, lazy(view, region, p, request.loaderThreads()));
            }
            if (qemu != null) {
                Double ms = qemu.load(notes);
                if (ms != null) {
                    record(times, RestoreBench.QEMU, round, ms);
                } else {
                    times.remove(RestoreBench.QEMU); // its note says why
                    qemu = null;
                }
            }
            postcopy.round(round > 0);
        }
        return FileLoadResults.report(request, reader.format(), region, presentBytes, Median.of(opens), times, qemu, postcopy, notes);
    }

    /** Milliseconds to open the file afresh: headers and bitmaps, no page. */
    private double open(FileLoadRequest request) {
        long start = System.nanoTime();
        try (SnapshotReader again = formats.open(request.file(), request.offset())) {
            again.regions();
            again.origin();
        }
        return (System.nanoTime() - start) / 1e6;
    }

    private static void record(Map<String, List<Double>> times, String mode, int round, double ms) {
        List<Double> list = times.computeIfAbsent(mode, m -> new ArrayList<>());
        if (round > 0) {
            list.add(ms);
        }
    }

    private static int largest(SnapshotReader reader) {
        int best = 0;
        for (int i = 1; i < reader.regions().size(); i++) {
            if (reader.regions().get(i).size() > reader.regions().get(best).size()) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Milliseconds to read every present page into fresh memory, a read per run of present pages (up to
     * {@link #EAGER_CHUNK}); absent pages stay the fresh memory's zeros, untouched.
     */
    private static double eager(SnapshotReader view, SnapshotRegion region) {
        try (Mapping memory = anonymous(region.size())) {
            long start = System.nanoTime();
            long maxRun = EAGER_CHUNK / region.pageSize();
            long pages = region.pages();
            for (long page = 0; page < pages; ) {
                if (!view.isPresent(0, page)) {
                    page++;
                    continue;
                }
                long end = page + 1;
                while (end < pages && end - page < maxRun && view.isPresent(0, end)) {
                    end++;
                }
                view.readPages(0, page, end - page,
                        memory.segment().asSlice(page * region.pageSize(), (end - page) * region.pageSize()));
                page = end;
            }
            return RestoreBench.ms(java.time.Duration.ofNanos(System.nanoTime() - start));
        }
    }

    /** Milliseconds from the load's start to every page present, with {@code policy}'s loaders. */
    private double lazy(SnapshotReader view, SnapshotRegion region, PagePolicy policy, int loaderThreads) {
        try (Mapping memory = anonymous(region.size())) {
            LazyRestore load = restorer.start(RestoreRequest.of(view, List.of(new HostRegion(memory.address(), memory.size())),
                    policy, failure -> {}).withLoaderThreads(loaderThreads).withProfile(ProfileMode.IGNORE));
            try {
                load.resumed(); // no vCPU: the loaders start at once
                RestoreStats stats = load.completion().get(LOAD_TIMEOUT_S, TimeUnit.SECONDS);
                return stats.fullLoadTime() / 1e6;
            } catch (TimeoutException e) {
                throw new IllegalStateException("bench: policy " + policy.name() + " did not load " + region.name()
                        + " within " + LOAD_TIMEOUT_S + " s (does it load in the background?)");
            } catch (ExecutionException e) {
                throw new IllegalStateException("bench: loading with " + policy.name() + " failed: " + e.getCause().getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("bench: interrupted");
            } finally {
                load.close();
            }
        }
    }

    private static Mapping anonymous(long size) {
        return Mapping.anonymous(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE);
    }
}
