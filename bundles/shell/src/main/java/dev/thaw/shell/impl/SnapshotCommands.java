package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.api.snapshot.SnapshotSummary;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** Gogo commands to snapshot VMs, restore them, and look inside snapshot files. */
@Component(service = SnapshotCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=snapshot",
    "osgi.command.function=restore",
    "osgi.command.function=inspect"
})
public final class SnapshotCommands {

    /** Bytes read at a time when digesting a region. */
    static final long DIGEST_CHUNK = 16L << 20;

    private final VmManager vms;
    private final SnapshotFormats formats;
    private final ObjectMapper json = new ObjectMapper();

    @Activate
    public SnapshotCommands(@Reference VmManager vms, @Reference SnapshotFormats formats) {
        this.vms = vms;
        this.formats = formats;
    }

    @Descriptor("pause a VM, write its state and memory to a file, then stop it (or let it run on with --resume)")
    public void snapshot(
            CommandSession session,
            @Descriptor("let the VM run on after the snapshot") @Parameter(names = "--resume", presentValue = "true", absentValue = "false") boolean resume,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("VM id") String id,
            @Descriptor("the snapshot file to write") String file) {
        Vm vm = Arguments.vm(vms, id);
        Path path = Arguments.file(session, file);
        ProgressBar bar = new ProgressBar("snapshot " + id, System.err);
        SnapshotSummary s;
        try {
            s = vm.snapshot(path, resume, bar);
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
        out.printf("%s: snapshot written to %s%n", id, path);
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
                    + "2 unless changed)") @Parameter(names = "--loader-threads", absentValue = "0") String loaderThreads,
            @Descriptor("record the guest's first-touch order into the snapshot's working-set profile, until its first invocation completes")
            @Parameter(names = "--record-profile", presentValue = "true", absentValue = "false") boolean record,
            @Descriptor("the new VM's id (default: vm1, vm2, ...)") @Parameter(names = "--name", absentValue = "") String name,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("the snapshot file") String file) {
        Path path = Arguments.file(session, file);
        int threads = (int) Options.parseLong("--loader-threads", loaderThreads);
        RestoreOptions options = new RestoreOptions(path, name.isEmpty() ? null : name, eager, policy.isEmpty() ? null : policy,
                threads, record);
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
        String mode = eager ? "eager" : "lazy, policy " + used + (record ? ", recording a profile into " + profile : "");
        PrintStream out = session.getConsole();
        if (asJson) {
            Map<String, Object> m = VmCommands.infoJson(vm.info());
            m.put("file", path.toAbsolutePath().toString());
            m.put("mode", eager ? "eager" : "lazy");
            if (!eager) {
                m.put("policy", used);
                m.put("profile", profile.toString()); // read, or with --record-profile written
            }
            out.println(toJson(m));
            return;
        }
        out.printf("%s restored from %s (%s): vCPUs running %.1f ms after the restore command%n", vm.id(), path, mode, ms);
    }

    @Descriptor("show what a snapshot file holds: format, machine, devices, memory regions")
    public void inspect(
            CommandSession session,
            @Descriptor("add a SHA-256 of each region's contents (absent pages counted as zeros)") @Parameter(names = "--sha256", presentValue = "true", absentValue = "false") boolean sha256,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("the snapshot file") String file) {
        Path path = Arguments.file(session, file);
        try (SnapshotReader reader = formats.open(path)) {
            List<String> digests = new ArrayList<>();
            if (sha256) {
                for (int r = 0; r < reader.regions().size(); r++) {
                    digests.add(digest(reader, r));
                }
            }
            Map<String, Object> report = report(reader, digests);
            PrintStream out = session.getConsole();
            if (asJson) {
                out.println(toJson(report));
            } else {
                print(report, reader, digests, out);
            }
        }
    }

    private static Map<String, Object> report(SnapshotReader reader, List<String> digests) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", reader.file().toAbsolutePath().toString());
        m.put("format", reader.format());
        m.put("version", reader.version());
        reader.state().ifPresent(state -> {
            Map<String, Object> machine = new LinkedHashMap<>();
            machine.put("guest", state.guest().name());
            machine.put("guestImageSha256", state.guest().imageSha256());
            machine.put("memory", state.boot().memoryBytes());
            machine.put("vcpus", state.vcpus().size());
            machine.put("workload", state.boot().workload().label());
            machine.put("seed", state.boot().seed());
            machine.put("workingSet", state.boot().workingSetBytes());
            m.put("machine", machine);
            m.put("devices", state.devices().stream().map(d -> d.type()).toList());
        });
        List<Map<String, Object>> regions = new ArrayList<>();
        for (int i = 0; i < reader.regions().size(); i++) {
            SnapshotRegion r = reader.regions().get(i);
            Map<String, Object> region = new LinkedHashMap<>();
            region.put("name", r.name());
            region.put("guestAddress", r.guestAddress());
            region.put("size", r.size());
            region.put("pageSize", r.pageSize());
            region.put("presentPages", r.presentPages());
            region.put("zeroPages", r.zeroPages());
            if (!digests.isEmpty()) {
                region.put("sha256", digests.get(i));
            }
            regions.add(region);
        }
        m.put("regions", regions);
        return m;
    }

    private static void print(Map<String, Object> report, SnapshotReader reader, List<String> digests, PrintStream out) {
        out.printf("%s: %s snapshot, version %d%n", reader.file(), reader.format(), reader.version());
        reader.state().ifPresent((MachineState s) -> {
            out.printf("machine: %s, %s, %d vCPU%s, workload %s (seed %d, working set %s)%n", s.guest().name(),
                    Sizes.format(s.boot().memoryBytes()), s.vcpus().size(), s.vcpus().size() == 1 ? "" : "s",
                    s.boot().workload().label(), s.boot().seed(), Sizes.format(s.boot().workingSetBytes()));
            out.printf("devices: %s%n", String.join(", ", s.devices().stream().map(d -> d.type()).toList()));
        });
        List<String> headers = new ArrayList<>(List.of("REGION", "GUEST ADDRESS", "SIZE", "PAGE", "PRESENT", "ZERO"));
        if (!digests.isEmpty()) {
            headers.add("SHA-256");
        }
        Table t = new Table(headers.toArray(String[]::new)).numeric(2, 3, 4, 5);
        for (int i = 0; i < reader.regions().size(); i++) {
            SnapshotRegion r = reader.regions().get(i);
            List<Object> row = new ArrayList<>(List.of(r.name(), r.guestAddress() < 0 ? "-" : String.format("0x%x", r.guestAddress()),
                    Sizes.format(r.size()), r.pageSize(), r.presentPages(), r.zeroPages()));
            if (!digests.isEmpty()) {
                row.add(digests.get(i));
            }
            t.row(row.toArray());
        }
        t.print(out);
    }

    /** SHA-256 of a region's contents as the guest would see them, absent pages as zeros. */
    private static String digest(SnapshotReader reader, int region) {
        SnapshotRegion r = reader.regions().get(region);
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
        long pagesPerChunk = Math.max(1, DIGEST_CHUNK / r.pageSize());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(pagesPerChunk * r.pageSize(), 4096);
            byte[] bytes = new byte[(int) buffer.byteSize()];
            for (long page = 0; page < r.pages(); page += pagesPerChunk) {
                long count = Math.min(pagesPerChunk, r.pages() - page);
                MemorySegment chunk = buffer.asSlice(0, count * r.pageSize());
                reader.readPages(region, page, count, chunk);
                MemorySegment.copy(chunk, ValueLayout.JAVA_BYTE, 0, bytes, 0, (int) chunk.byteSize());
                sha.update(bytes, 0, (int) chunk.byteSize());
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
