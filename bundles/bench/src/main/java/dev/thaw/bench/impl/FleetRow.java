package dev.thaw.bench.impl;

import dev.thaw.api.bench.FleetBenchReport;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.FleetInfo;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One row of {@code thaw:bench fleet}: N VMs restored one way, each invoked once, all at the same time, then
 * loaded fully, measured and stopped.
 */
final class FleetRow {

    static final String SHARED = "shared";
    static final String LAZY = "lazy";
    static final String EAGER = "eager";
    static final List<String> MODES = List.of(SHARED, LAZY, EAGER);
    /** How the restore engine names a shared page cache's memfd, followed by the snapshot's file name. */
    static final String CACHE_MAPPING = "memfd:thaw-cache:";

    private final VmManager vms;
    private final Path snapshot;
    private final String answer;
    private final Duration timeout;

    /**
     * @param answer the result line every VM's first invocation must print
     * @param timeout for each invocation, and for each VM's full load
     */
    FleetRow(VmManager vms, Path snapshot, String answer, Duration timeout) {
        this.vms = vms;
        this.snapshot = snapshot;
        this.answer = answer;
        this.timeout = timeout;
    }

    /** Restores {@code count} VMs in {@code mode} as the fleet {@code name}, measures them, and stops them. */
    FleetBenchReport.Row measure(String mode, String name, int count) {
        boolean eager = mode.equals(EAGER);
        RestoreOptions options = eager ? RestoreOptions.eager(snapshot, name) : RestoreOptions.lazy(snapshot, name, null);
        long pssBefore = ProcessMemory.pssAfterGc();
        long start = System.nanoTime();
        List<Vm> fleet = vms.restoreFleet(options, count, mode.equals(SHARED), Progress.NONE);
        long restored = System.nanoTime();
        long answered;
        long loaded;
        FleetInfo info;
        Long written = null;
        long pssGain;
        try {
            answered = invokeAll(fleet);
            for (Vm vm : fleet) {
                awaitLoaded(vm);
            }
            loaded = System.nanoTime();
            info = vms.fleets().stream().filter(f -> f.name().equals(name)).findFirst()
                    .orElseThrow(() -> new VmException("bench: the fleet " + name + " is not listed while its VMs run"));
            if (info.shared()) {
                written = info.hostBytes() - info.cacheBytes(); // the pages its VMs own: those they wrote
            }
            pssGain = ProcessMemory.pssAfterGc() - pssBefore; // every restore has completed: nothing is registered
        } finally {
            fleet.forEach(Vm::stop);
        }
        if (vms.fleets().stream().anyMatch(f -> f.name().equals(name))) {
            throw new VmException("bench: the fleet " + name + " is still listed after its VMs stopped");
        }
        long cacheLeft = ProcessMemory.pssOfMappings(CACHE_MAPPING + snapshot.getFileName());
        if (cacheLeft > 0) {
            throw new VmException("bench: " + cacheLeft + " bytes of the shared page cache of " + snapshot
                    + " are still mapped after the fleet " + name + " stopped");
        }
        long pssLeft = ProcessMemory.pssAfterGc() - pssBefore;
        return new FleetBenchReport.Row(mode, fleet.size(), ms(restored - start), ms(answered - start), ms(loaded - start),
                fleet.size(), info.hostBytes(), pssGain, written, pssLeft, note(mode));
    }

    /**
     * Sends one invocation to every VM at once, a thread each, and waits for all; returns when the last answered
     * ({@link System#nanoTime}). Every VM must answer {@link #answer}.
     */
    private long invokeAll(List<Vm> fleet) {
        List<Future<Long>> done = new ArrayList<>();
        // close() waits for every invocation: none is left running when one fails
        try (ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().name("bench-fleet-invoke-", 1)
                .factory())) {
            for (Vm vm : fleet) {
                done.add(threads.submit(() -> {
                    Invocation first = vm.invoke(timeout);
                    long at = System.nanoTime();
                    if (!first.resultLine().equals(answer)) {
                        throw new VmException("bench: " + vm.id() + " computed '" + first.resultLine()
                                + "', the VM that never stopped '" + answer + "'");
                    }
                    return at;
                }));
            }
        }
        long last = 0;
        for (Future<Long> f : done) {
            try {
                last = Math.max(last, f.get());
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new VmException("bench: " + e.getCause(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmException("bench: interrupted while the fleet's VMs were invoked", e);
            }
        }
        return last;
    }

    private void awaitLoaded(Vm vm) {
        RestoreStats s = vm.awaitLoaded(timeout, Progress.NONE).orElse(null); // empty: an eager restore, loaded before it ran
        if (s != null && s.phase() != RestoreStats.Phase.COMPLETE) {
            throw new VmException("bench: " + vm.id() + "'s restore ended " + s.phase());
        }
    }

    private static String note(String mode) {
        return switch (mode) {
            case SHARED -> "one fleet sharing the snapshot's pages (restore --count N --share), lazy";
            case LAZY -> "N independent lazy restores (restore --count N)";
            default -> "N eager restores (restore --count N --eager): each VM's memory loaded before it runs";
        };
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
