package dev.thaw.qemu.impl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.migration.ServeRequest;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.api.vm.ProcessRestore;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import dev.thaw.support.qemu.QmpClient;
import dev.thaw.support.qemu.QmpException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Restores a snapshot of the qemu runtime into a QEMU started for its machine with {@code -incoming defer} (a spare
 * started ahead where there is one, see {@link SpareIncomingQemus}):
 * eagerly by QEMU's own load of the mapped-ram file, or lazily with Thaw as the source of a postcopy migration
 * (docs/qemu-postcopy.md), the page policy choosing the order. Returns once the guest runs.
 */
final class IncomingQemu {

    /** QEMU's name of the guest's RAM block on a PC. */
    static final String RAM_BLOCK = "pc.ram";
    /** The policy of a recording serve: no background loading, every page the guest's own request. */
    static final String RECORDING_POLICY = "none";
    /** How long an eager load may take before the guest runs: QEMU reads all RAM first, at disk speed. */
    static final Duration LOAD_TIMEOUT = Duration.ofMinutes(10);

    private final QemuInstallation qemu;
    private final String accel;
    private final SnapshotSaver saver;
    private final SpareIncomingQemus spares;

    IncomingQemu(QemuInstallation qemu, String accel, SnapshotSaver saver, SpareIncomingQemus spares) {
        this.qemu = qemu;
        this.accel = accel;
        this.saver = saver;
        this.spares = spares;
    }

    /**
     * Restores {@code r}; closes its snapshot reader in every case (a lazy restore's serve reads the file itself).
     *
     * @param postcopy the postcopy source, or null where its bundle is not installed (then only eager restores work)
     * @param onStopped told once the VM is stopped (instead of the request's own, which it calls)
     */
    QemuVm restore(ProcessRestore r, PostcopyServer postcopy, Consumer<Vm> onStopped) {
        // A lazy restore hands the open snapshot on to its serve; an eager one has QEMU read the file itself.
        SnapshotReader toServe = r.snapshot();
        Path file = toServe.file();
        SessionFile session;
        try {
            session = SessionFile.readFor(file, r.offset());
            check(toServe, session);
            if (!r.eager() && postcopy == null) {
                throw new VmException(r.id() + ": a lazy restore on the qemu runtime needs Thaw's postcopy source "
                        + "(bundle dev.thaw.qemu.postcopy, feature formats), which is not installed; --eager loads without it");
            }
        } catch (RuntimeException | Error e) {
            toServe.close();
            throw e;
        }
        if (r.eager()) {
            toServe.close();
            toServe = null;
        }
        QemuVm vm = new QemuVm(r.id(), session.request(), session.machine(), session.session(), r.requestedNanos(),
                onStopped, saver);
        SpareIncomingQemus.Kind kind = new SpareIncomingQemus.Kind(qemu, accel, session.machine(), r.image());
        try {
            QemuProcess process = spares.take(kind, r.id(), vm.console());
            vm.attach(process);
            QmpClient qmp = process.qmp();
            if (r.eager()) {
                capabilities(qmp, "mapped-ram");
                qmp.execute("migrate-incoming", Map.of("uri", SnapshotSaver.uri(file, r.offset())));
                awaitLoaded(vm, process, file);
                // The snapshot was taken of a stopped VM, and QEMU restores that run state: start it ourselves.
                qmp.execute("cont");
            } else {
                capabilities(qmp, "postcopy-ram");
                Path socket = process.dir().resolve("migration");
                qmp.execute("migrate-incoming", Map.of("uri", "unix:" + socket));
                // Recording, as a recording restore does: pages on demand only until the first invocation is done
                // (QemuVm saves the profile then and sends the rest), so the requests are the guest's own touches.
                // Preloaded, the function guest has its working set: the rest waits for its first invocation, so that
                // sending it takes no CPU from that invocation.
                boolean held = r.preloadWorkingSet() && session.request().workload() == Workload.FUNCTION;
                ServeRequest request = (r.recordProfile()
                        ? new ServeRequest(file, r.offset(), "unix:" + socket, RECORDING_POLICY, Map.of()).withRecordProfileTo(r.profile())
                        : new ServeRequest(file, r.offset(), "unix:" + socket, r.policy(), Map.of()).withProfile(r.profile())
                                .withPreloadProfile(r.preloadWorkingSet()).withHoldBackground(held))
                        .withZeroPagesOnRequest(qemu.takesZeroPagesOnRequest()).withReaderThreads(r.loaderThreads());
                long serving = System.nanoTime();
                SnapshotReader reader = toServe;
                toServe = null; // the serve owns it from here, also when it fails
                vm.servedBy(postcopy.serve(request, reader), r.recordProfile(), held, serving);
            }
            awaitRunning(vm, process, file);
            vm.resumed();
            vm.resendUnreadInput(session.unreadInputOrNone());
            // The replacement's start-up takes CPU from the guest: it waits until the guest has settled, in every mode alike
            vm.onceSettled(() -> spares.want(kind));
            return vm;
        } catch (QmpException e) {
            vm.stop();
            throw new VmException(r.id() + ": restoring " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            vm.stop(); // never a QEMU left running, whatever went wrong
            throw e;
        } finally {
            if (toServe != null) {
                toServe.close(); // the restore failed before its serve took the snapshot
            }
        }
    }

    /** The file's machine must be the one its session names. */
    private static void check(SnapshotReader reader, SessionFile session) {
        String type = reader.origin().machine();
        if (!type.equals(session.machine().type())) {
            throw new SnapshotException(reader.file(), "is of machine " + type + ", its session file names " + session.machine().type());
        }
        SnapshotRegion ram = reader.regions().stream().filter(region -> region.name().equals(RAM_BLOCK)).findFirst()
                .orElseThrow(() -> new SnapshotException(reader.file(), "holds no RAM block " + RAM_BLOCK));
        if (ram.size() != session.machine().memoryBytes()) {
            throw new SnapshotException(reader.file(), "holds " + ram.size() + " bytes of " + RAM_BLOCK + ", its session file "
                    + session.machine().memoryBytes());
        }
    }

    private static void capabilities(QmpClient qmp, String on) {
        qmp.execute("migrate-set-capabilities", Map.of("capabilities", List.of(Map.of("capability", on, "state", true))));
    }

    /** Waits until QEMU has loaded the whole file; fails at once when QEMU ends or the load fails. */
    private static void awaitLoaded(QemuVm vm, QemuProcess process, Path file) {
        long deadline = System.nanoTime() + LOAD_TIMEOUT.toNanos();
        while (true) {
            JsonNode state;
            try {
                state = process.qmp().execute("query-migrate");
            } catch (QmpException e) {
                throw process.failure("restoring " + file + ": QEMU ended while it loaded the file");
            }
            String status = state.path("status").asText();
            if (status.equals("completed")) {
                return;
            }
            if (status.equals("failed") || status.equals("cancelled")) {
                throw process.failure("restoring " + file + ": QEMU's load " + status + ": " + state.path("error-desc").asText(""));
            }
            waitABit(vm, process, file, deadline);
        }
    }

    /**
     * Between two looks at QEMU: gives up when it has ended, the VM failed, the deadline passed or the thread
     * was interrupted.
     */
    private static void waitABit(QemuVm vm, QemuProcess process, Path file, long deadline) {
        giveUpIfHopeless(vm, process, file, deadline);
        try {
            Thread.sleep(2); // QEMU tells the end of an incoming load only when asked (no events capability)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException(vm.id() + ": restoring " + file + ": interrupted");
        }
    }

    /** Gives up the restore when the VM failed, QEMU has ended, or the deadline has passed. */
    private static void giveUpIfHopeless(QemuVm vm, QemuProcess process, Path file, long deadline) {
        if (vm.info().status() == VmStatus.FAILED) {
            throw new VmException(vm.id() + ": restoring " + file + ": " + vm.info().reason());
        }
        if (!process.alive()) {
            throw process.failure("restoring " + file + ": QEMU ended before the guest ran");
        }
        if (System.nanoTime() > deadline) {
            throw process.failure("restoring " + file + ": the guest did not run within " + LOAD_TIMEOUT.toMinutes() + " min");
        }
    }

    /** Waits for QEMU's word that the guest runs (RESUME); fails at once when QEMU ends or the load fails. */
    private static void awaitRunning(QemuVm vm, QemuProcess process, Path file) {
        long deadline = System.nanoTime() + LOAD_TIMEOUT.toNanos();
        QmpClient qmp = process.qmp();
        while (true) {
            JsonNode event;
            try {
                event = qmp.nextEvent(Duration.ofMillis(50));
            } catch (QmpException e) {
                throw process.failure("restoring " + file + ": QEMU ended before the guest ran");
            }
            if (event != null && event.path("event").asText().equals("RESUME")) {
                return;
            }
            if (Thread.interrupted()) {
                throw new VmException(vm.id() + ": restoring " + file + ": interrupted");
            }
            giveUpIfHopeless(vm, process, file, deadline);
        }
    }
}
