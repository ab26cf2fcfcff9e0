package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchRow;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.RuntimeInfo;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * QEMU's own eager load of the same guest: booted with the same request on the qemu runtime, saved there (a
 * QEMU mapped-ram file), and restored {@code --eager} on it, round after round beside Thaw's rows. The
 * runtime's eager restore is QEMU's {@code migrate-incoming file:} and then {@code cont}, so its resume is
 * its full load; QEMU's reads touch each page they fill, so that load is loaded and touched.
 */
final class QemuEagerRow implements PeerRow {

    static final String MODE = "qemu-eager";
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final VmManager vms;
    private final long warmBytes;
    private final List<Double> loads = new ArrayList<>();
    private Path file;
    private long presentBytes;
    private String expected;
    private int restores;
    /** Why there is no row, or null. */
    private String missing;

    private QemuEagerRow(VmManager vms, long warmBytes) {
        this.vms = vms;
        this.warmBytes = warmBytes;
    }

    /**
     * Boots {@code boot} on the qemu runtime, lets its function answer once and saves it beside {@code snapshot};
     * or notes why there will be no row. {@code warmBytes}: the host memory each load starts warm with ({@link HostBacking}).
     */
    static QemuEagerRow prepare(VmManager vms, BootRequest boot, Path snapshot, long warmBytes, Consumer<String> progress) {
        QemuEagerRow q = new QemuEagerRow(vms, warmBytes);
        Optional<RuntimeInfo> qemu = vms.runtimes().stream().filter(r -> r.name().equals(RestoreBench.QEMU_RUNTIME)).findFirst();
        if (qemu.isEmpty() || !qemu.get().available()) {
            q.missing = MODE + " row skipped: " + (qemu.isEmpty() ? "no qemu runtime is installed"
                    : "the qemu runtime cannot run here: " + qemu.get().unavailableReason());
            return q;
        }
        progress.accept("qemu-eager: booting the same guest on the qemu runtime and saving it");
        Vm original = null;
        try {
            original = vms.boot(new BootRequest("bench-qemu-original", boot.memoryBytes(), boot.vcpus(), boot.workload(),
                    boot.seed(), boot.workingSetBytes(), boot.touchOrder(), boot.strideBytes(), boot.residentBytes(),
                    boot.writePercent()), RestoreBench.QEMU_RUNTIME);
            original.awaitLine("result function", 0, TIMEOUT);
            q.file = snapshot.resolveSibling("qemu-guest.mapped-ram");
            q.presentBytes = original.snapshot(q.file, true, Progress.NONE).presentPages() * 4096;
            q.expected = original.invoke(TIMEOUT).resultLine();
        } catch (RuntimeException e) {
            q.missing = MODE + " row failed: " + e.getMessage();
        } finally {
            if (original != null) {
                original.stop();
            }
        }
        return q;
    }

    /** One eager restore on the qemu runtime; the uncounted one (warm-up) also checks that the copy computes right. */
    @Override
    public void measure(boolean counted) {
        if (missing != null) {
            return;
        }
        HostBacking.warm(warmBytes);
        Vm vm = null;
        try {
            vm = vms.restore(RestoreOptions.eager(file, "bench-qemu-" + (++restores)).onRuntime(RestoreBench.QEMU_RUNTIME),
                    Progress.NONE);
            double ms = RestoreBench.ms(vm.info().resumeLatency());
            if (counted) {
                loads.add(ms);
            } else {
                String got = vm.invoke(TIMEOUT).resultLine();
                if (!got.equals(expected)) {
                    missing = MODE + " row failed: the restored copy computed '" + got + "', the VM that was saved '" + expected + "'";
                }
            }
        } catch (RuntimeException e) {
            missing = MODE + " row failed: " + e.getMessage();
        } finally {
            if (vm != null) {
                vm.stop();
            }
        }
    }

    @Override
    public BenchRow row(List<String> notes) {
        delete();
        if (missing != null) {
            notes.add(missing);
            return new BenchRow(MODE, null, null, null, null, null, null, null, null, null, null, null, null, null, missing);
        }
        Double load = Median.of(loads);
        return new BenchRow(MODE, load, null, null, null, null, null, null, null, null, null, null, load,
                presentBytes / 1e3 / load, "QEMU " + QemuPeer.version() + " (qemu runtime): the same guest saved by QEMU and "
                        + "restored --eager, migrate-incoming file: then cont; its reads touch what they load ("
                        + (presentBytes >> 20) + " MiB present)");
    }

    @Override
    public void delete() {
        try {
            if (file != null) {
                try (var beside = Files.list(file.getParent())) {
                    // the file and what the runtime keeps beside it (its session file)
                    for (Path p : beside.filter(p -> p.getFileName().toString().startsWith(file.getFileName().toString())).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot remove " + file + ": " + e.getMessage(), e);
        }
    }
}
