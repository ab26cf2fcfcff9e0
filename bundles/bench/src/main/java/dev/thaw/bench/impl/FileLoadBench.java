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
 * after round: by eager reads along each {@link EagerPath} (Thaw's own among them), by each policy's
 * background loaders through userfaultfd (nothing faults: this is the loaders' pace), by QEMU's own eager
 * load of the whole file, and by Thaw serving the file to a destination QEMU through postcopy with each
 * policy (when the qemu-postcopy bundle is there). Every row but the postcopy ones ends when each present
 * page is loaded and touched once (see {@link LoadTiming}); each starts with the host's memory warm (see
 * {@link HostBacking}).
 */
@Component(service = FileLoadBenchmark.class)
public final class FileLoadBench implements FileLoadBenchmark {

    static final String EAGER = "thaw-eager";
    /** Longer than any load of a guest that fits this machine takes. */
    static final long LOAD_TIMEOUT_S = 120;

    private final SnapshotFormats formats;
    private final LazyRestorer restorer;
    private final InstalledPolicies policies;
    /** Optional: without the qemu-postcopy bundle the postcopy rows say why they are missing. */
    private volatile PostcopyServer postcopyServer;

    @Activate
    public FileLoadBench(@Reference SnapshotFormats formats, @Reference LazyRestorer restorer,
            @Reference InstalledPolicies policies) {
        this.formats = formats;
        this.restorer = restorer;
        this.policies = policies;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void setPostcopyServer(PostcopyServer server) {
        postcopyServer = server;
    }

    synchronized void unsetPostcopyServer(PostcopyServer server) {
        // greedy: a better server may be bound before the old one is unbound
        if (postcopyServer == server) {
            postcopyServer = null;
        }
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
        Map<String, List<LoadTiming>> times = new LinkedHashMap<>();
        List<Double> opens = new ArrayList<>();
        for (int round = 0; round <= request.repeat(); round++) {
            progress.accept(round == 0 ? "warm-up round" : "round " + round + " of " + request.repeat());
            double open = open(request);
            if (round > 0) {
                opens.add(open);
            }
            for (EagerPath path : EagerPath.candidates()) {
                HostBacking.warm(region.size());
                record(times, path.mode(), round, EagerLoadRow.run(path, view, region));
            }
            for (PagePolicy p : loading) {
                HostBacking.warm(region.size());
                record(times, p.name(), round, lazy(view, region, p, request.loaderThreads()));
            }
            if (qemu != null) {
                HostBacking.warm(region.size());
                Double ms = qemu.load(notes);
                if (ms != null) {
                    record(times, RestoreBench.QEMU, round, LoadTiming.touching(ms));
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

    private static void record(Map<String, List<LoadTiming>> times, String mode, int round, LoadTiming timing) {
        List<LoadTiming> list = times.computeIfAbsent(mode, m -> new ArrayList<>());
        if (round > 0) {
            list.add(timing);
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
     * From the load's start to every page present (the restore's own fullLoadTime), and to every page
     * present and touched once, with {@code policy}'s loaders. The touch comes after the restore has
     * unregistered the memory, so no Java thread can wait for a userfaultfd.
     */
    private LoadTiming lazy(SnapshotReader view, SnapshotRegion region, PagePolicy policy, int loaderThreads) {
        try (Mapping memory = anonymous(region.size())) {
            long start = System.nanoTime();
            LazyRestore load = restorer.start(RestoreRequest.of(view, List.of(new HostRegion(memory.address(), memory.size())),
                    policy, failure -> {}).withLoaderThreads(loaderThreads).withProfile(ProfileMode.IGNORE));
            try {
                load.resumed(); // no vCPU: the loaders start at once
                RestoreStats stats = load.completion().get(LOAD_TIMEOUT_S, TimeUnit.SECONDS);
                load.close();
                EagerLoadRow.touch(view, region, memory.segment());
                return new LoadTiming(stats.fullLoadTime() / 1e6, (System.nanoTime() - start) / 1e6);
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

    static Mapping anonymous(long size) {
        return Mapping.anonymous(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE);
    }
}
