package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.migration.ServeRequest;
import dev.thaw.api.snapshot.SnapshotSummary;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** Gogo commands to snapshot VMs and restore them. */
@Component(service = SnapshotCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=snapshot",
    "osgi.command.function=restore"
})
public final class SnapshotCommands {

    private final VmManager vms;
    private final ObjectMapper json = new ObjectMapper();
    /** Absent without the qemu-postcopy bundle: then {@code --serve} says so. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PostcopyServer server;

    @Activate
    public SnapshotCommands(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Descriptor("pause a VM, write its state and memory to a file, then stop it (or let it run on with --resume)")
    public void snapshot(
            CommandSession session,
            @Descriptor("let the VM run on after the snapshot") @Parameter(names = "--resume", presentValue = "true", absentValue = "false") boolean resume,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("VM id") String id,
            @Descriptor("the snapshot file to write, or file:PATH,offset=N to keep PATH's first N bytes and write from there "
                    + "(qemu runtime)") String file) {
        Vm vm = Arguments.vm(vms, id);
        Arguments.SnapshotLocation at = Arguments.snapshot(session, file);
        Path path = at.file();
        ProgressBar bar = new ProgressBar("snapshot " + id, System.err);
        SnapshotSummary s;
        try {
            s = vm.snapshot(path, at.offset(), resume, bar);
        } finally {
            bar.finish();
        }
        double seconds = s.nanos() / 1e9;
        long memory = (s.presentPages() + s.zeroPages()) * 4096;
        PrintStream out = session.getConsole();
        if (asJson) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("file", path.toAbsolutePath().toString());
            m.put("offset", at.offset());
            m.put("apparentSize", s.apparentSize());
            m.put("allocatedSize", s.allocatedSize());
            m.put("presentPages", s.presentPages());
            m.put("zeroPages", s.zeroPages());
            m.put("seconds", seconds);
            m.put("memoryMBps", memory / 1e6 / seconds);
            m.put("resumed", resume);
            out.println(toJson(m));
            return;
        }
        out.printf("%s: snapshot written to %s%n", id, at.offset() == 0 ? path : "file:" + path + ",offset=" + at.offset());
        out.printf("  size %s on disk, %s apparent (%d pages written, %d zero pages left as holes)%n",
                Sizes.format(s.allocatedSize()), Sizes.format(s.apparentSize()), s.presentPages(), s.zeroPages());
        out.printf("  %.3f s, %.0f MB/s of guest memory, %.0f MB/s written; the VM %s%n", seconds, memory / 1e6 / seconds,
                s.presentPages() * 4096 / 1e6 / seconds, resume ? "runs on" : "is stopped");
    }

    @Descriptor("bring a VM back from a snapshot file: lazily by default (vCPUs run at once, memory follows), or --eager")
    public void restore(
            CommandSession session,
            @Descriptor("load all memory before the vCPUs start") @Parameter(names = "--eager", presentValue = "true", absentValue = "false") boolean eager,
            @Descriptor("page policy of a lazy restore (thaw:policies lists them; none = pure demand loading) "
                    + "(default: defaultPolicy in config/dev.thaw.restore.cfg, sequential unless changed)")
            @Parameter(names = "--policy", absentValue = "") String policy,
            @Descriptor("background loader threads of a lazy restore (default: loaderThreads in config/dev.thaw.restore.cfg, "
                    + "2 unless changed); of a QEMU file's serve, the threads that read its pages") @Parameter(names = "--loader-threads", absentValue = "0") String loaderThreads,
            @Descriptor("record the guest's first-touch order into the snapshot's working-set profile, until its first invocation "
                    + "completes (with --serve: the destination's page requests, until it has every page)")
            @Parameter(names = "--record-profile", presentValue = "true", absentValue = "false") boolean record,
            @Descriptor("load the pages of the snapshot's working-set profile before the guest runs (qemu runtime; with --serve: "
                    + "before the device state): the resume waits for them, the first invocation finds them in")
            @Parameter(names = "--preload-working-set", presentValue = "true", absentValue = "false") boolean preload,
            @Descriptor("the new VM's id (default: vm1, vm2, ...)") @Parameter(names = "--name", absentValue = "") String name,
            @Descriptor("the vCPU runtime to restore a Thaw snapshot on, whichever it was taken on (default: config/dev.thaw.machine.cfg); QEMU files restore on qemu")
            @Parameter(names = "--runtime", absentValue = "") String runtime,
            @Descriptor("serve FILE, a QEMU mapped-ram file, to an incoming QEMU started with -incoming ADDRESS and "
                    + "postcopy-ram on (unix:PATH or tcp:HOST:PORT; docs/qemu-postcopy.md, Serving your own QEMU)")
            @Parameter(names = "--serve", absentValue = "") String serve,
            @Descriptor("restore N VMs from the snapshot as a fleet, named NAME-1 to NAME-N (NAME: --name, else fleet1, "
                    + "fleet2, ...); thaw:fleet lists fleets") @Parameter(names = "--count", absentValue = "0") String count,
            @Descriptor("the fleet's VMs share the snapshot's pages: each is read and verified once, into a page cache every VM "
                    + "maps copy-on-write (lazy restores of Thaw snapshots)")
            @Parameter(names = "--share", presentValue = "true", absentValue = "false") boolean share,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("the snapshot file, or file:PATH,offset=N for a QEMU stream that starts at byte N") String file) {
        int fleetSize = (int) Options.parseLong("--count", count);
        if (share && fleetSize == 0) {
            throw new IllegalArgumentException("--share shares a snapshot's pages among the VMs of a fleet: give --count N");
        }
        if (!serve.isEmpty() && fleetSize > 0) {
            throw new IllegalArgumentException("--serve serves one QEMU that Thaw does not run; --count restores a fleet of VMs Thaw runs");
        }
        if (!serve.isEmpty()) {
            int readers = (int) Options.parseLong("--loader-threads", loaderThreads);
            serve(session, serve, file, policy, record, preload, readers == 0 ? vms.restoreSettings().loaderThreads() : readers,
                    asJson, ServeCommand.conflicts(eager, name, runtime));
            return;
        }
        Arguments.SnapshotLocation at = Arguments.snapshot(session, file);
        Path path = at.file();
        int threads = (int) Options.parseLong("--loader-threads", loaderThreads);
        RestoreOptions options = new RestoreOptions(path, name.isEmpty() ? null : name, eager, policy.isEmpty() ? null : policy,
                threads, record, runtime.isEmpty() ? null : runtime, at.offset(), preload);
        if (fleetSize > 0) {
            FleetCommands.restore(vms, options, fleetSize, share, session.getConsole(), asJson);
            return;
        }
        ProgressBar bar = new ProgressBar("restore", System.err);
        Vm vm;
        try {
            vm = vms.restore(options, bar);
        } finally {
            bar.finish();
        }
        double ms = vm.info().resumeLatency().toNanos() / 1e6;
        String used = vm.restoreStats().map(s -> s.policy()).orElse(policy); // the configured default, or a fallback
        Path profile = vms.profileFile(path);
        String mode = eager ? "eager" : "lazy, policy " + used + (record ? ", recording a profile into " + profile : "")
                + (preload ? ", working set preloaded from " + profile : "");
        PrintStream out = session.getConsole();
        if (asJson) {
            Map<String, Object> m = VmCommands.infoJson(vm.info());
            m.put("file", path.toAbsolutePath().toString());
            m.put("offset", at.offset());
            m.put("mode", eager ? "eager" : "lazy");
            if (!eager) {
                m.put("policy", used);
                m.put("profile", profile.toString()); // read, or with --record-profile written
            }
            out.println(toJson(m));
            return;
        }
        out.printf("%s restored on %s from %s (%s): vCPUs running %.1f ms after the restore command%n", vm.id(),
                vm.info().runtime(), at.offset() == 0 ? path : "file:" + path + ",offset=" + at.offset(), mode, ms);
    }

    private void serve(CommandSession session, String address, String file, String policy, boolean record, boolean preload,
            int readers, boolean asJson, List<String> conflicts) {
        if (!conflicts.isEmpty()) {
            throw new IllegalArgumentException("--serve cannot be combined with " + String.join("; nor with ", conflicts));
        }
        if (record && preload) {
            throw new IllegalArgumentException("--preload-working-set sends the profile that --record-profile would write: "
                    + "record first, preload on a later serve");
        }
        PostcopyServer s = server;
        if (s == null) {
            throw new IllegalStateException("--serve needs the QEMU postcopy source (bundle dev.thaw.qemu.postcopy, feature "
                    + "formats), which is not active");
        }
        Arguments.SnapshotLocation at = Arguments.snapshot(session, file);
        String used = policy.isEmpty() ? vms.restoreSettings().defaultPolicy() : policy;
        ServeRequest request = ServeCommand.request(at.file(), at.offset(), ServeCommand.address(session, address), used,
                vms.profileFile(at.file()), record).withPreloadProfile(preload).withReaderThreads(readers);
        ServeCommand.run(s, request, session.getConsole(), asJson);
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
