package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.SnapshotDevice;
import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotOrigin;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.api.vm.BootRequest;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
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

/** Gogo commands that look inside snapshot files of any installed format: formats, inspect, diff. */
@Component(service = FileCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=formats",
    "osgi.command.function=inspect",
    "osgi.command.function=diff"
})
public final class FileCommands {

    /** Differing page runs thaw:diff prints per region (--json prints all). */
    static final int RANGES_SHOWN = 8;

    private final SnapshotFormats formats;
    private final ObjectMapper json = new ObjectMapper();

    @Activate
    public FileCommands(@Reference SnapshotFormats formats) {
        this.formats = formats;
    }

    @Descriptor("list the installed snapshot formats; a file's format is found by probing its content, not its name")
    public void formats(
            CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson) {
        List<SnapshotFormat> sorted = formats.formats().stream().sorted(Comparator.comparing(SnapshotFormat::name)).toList();
        PrintStream out = session.getConsole();
        if (asJson) {
            out.println(toJson(Map.of("formats", sorted.stream()
                    .map(f -> Map.of("name", f.name(), "description", f.description())).toList())));
            return;
        }
        Table t = new Table("FORMAT", "DESCRIPTION");
        sorted.forEach(f -> t.row(f.name(), f.description()));
        t.print(out);
    }

    @Descriptor("show what a snapshot file holds: format, machine, devices, memory regions")
    public void inspect(
            CommandSession session,
            @Descriptor("add a SHA-256 of each region's contents (absent pages counted as zeros)") @Parameter(names = "--sha256", presentValue = "true", absentValue = "false") boolean sha256,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("the snapshot file, or file:PATH,offset=N for a stream that starts at byte N") String file) {
        Arguments.SnapshotLocation at = Arguments.snapshot(session, file);
        try (SnapshotReader reader = formats.open(at.file(), at.offset())) {
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
        SnapshotOrigin origin = reader.origin();
        m.put("machine", origin.machine());
        m.put("capabilities", origin.capabilities());
        reader.state().ifPresent(state -> {
            Map<String, Object> guest = new LinkedHashMap<>();
            guest.put("name", state.guest().name());
            guest.put("imageSha256", state.guest().imageSha256());
            guest.put("memory", state.boot().memoryBytes());
            guest.put("vcpus", state.vcpus().size());
            guest.put("workload", state.boot().workload().label());
            guest.put("seed", state.boot().seed());
            guest.put("workingSet", state.boot().workingSetBytes());
            guest.put("residentSet", state.boot().residentBytes()); // 0: the working set alone
            guest.put("writePercent", state.boot().writePercent());
            m.put("guest", guest);
            m.put("runtime", state.runtime());
        });
        m.put("devices", origin.devices().stream().map(d -> {
            Map<String, Object> device = new LinkedHashMap<>();
            device.put("name", d.name());
            device.put("instance", d.instance());
            device.put("version", d.version());
            return device;
        }).toList());
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
        SnapshotOrigin origin = reader.origin();
        out.printf("machine: %s%n", origin.machine());
        if (!origin.capabilities().isEmpty()) {
            out.printf("capabilities: %s%n", String.join(", ", origin.capabilities()));
        }
        reader.state().ifPresent((MachineState s) -> out.printf("guest: %s, %s, %d vCPU%s, workload %s (seed %d, working set %s%s%s), "
                + "taken on the %s runtime%n", s.guest().name(), Sizes.format(s.boot().memoryBytes()), s.vcpus().size(),
                s.vcpus().size() == 1 ? "" : "s", s.boot().workload().label(), s.boot().seed(), Sizes.format(s.boot().workingSetBytes()),
                s.boot().residentBytes() == BootRequest.RESIDENT_AS_WORKING_SET ? ""
                        : ", resident set " + Sizes.format(s.boot().residentBytes()),
                s.boot().writePercent() == BootRequest.WRITE_ALL ? ""
                        : ", writing " + s.boot().writePercent() + "% of the pages it reads",
                s.runtime()));
        out.printf("devices: %s%n", origin.devices().isEmpty() ? "none recorded"
                : String.join(", ", origin.devices().stream().map(FileCommands::deviceName).toList()));
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

    /** {@code uart16550 v1}: the device's name, its instance after {@code #} if not the first, its state's version if known. */
    private static String deviceName(SnapshotDevice d) {
        return (d.instance() == 0 ? d.name() : d.name() + "#" + d.instance()) + (d.version() < 0 ? "" : " v" + d.version());
    }

    /** SHA-256 of a region's contents as the guest would see them, absent pages as zeros. */
    private static String digest(SnapshotReader reader, int region) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
        long pages = reader.regions().get(region).pages();
        try (RegionChunks chunks = new RegionChunks(reader, region)) {
            for (long page = 0; page < pages; page += chunks.pagesPerChunk()) {
                sha.update(chunks.read(page, Math.min(chunks.pagesPerChunk(), pages - page)).asByteBuffer());
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    @Descriptor("show which pages differ between two snapshots of the same memory layout (any formats): counts per region and the runs")
    public void diff(
            CommandSession session,
            @Descriptor("print JSON (every run)") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("the first snapshot file (or file:PATH,offset=N)") String first,
            @Descriptor("the second snapshot file (or file:PATH,offset=N)") String second) {
        Arguments.SnapshotLocation la = Arguments.snapshot(session, first);
        Arguments.SnapshotLocation lb = Arguments.snapshot(session, second);
        Path a = la.file();
        Path b = lb.file();
        List<SnapshotDiff.RegionDiff> diffs;
        try (SnapshotReader ra = formats.open(a, la.offset()); SnapshotReader rb = formats.open(b, lb.offset())) {
            diffs = SnapshotDiff.of(ra, rb);
        }
        long total = diffs.stream().mapToLong(SnapshotDiff.RegionDiff::differentPages).sum();
        long pages = diffs.stream().mapToLong(SnapshotDiff.RegionDiff::pages).sum();
        PrintStream out = session.getConsole();
        if (asJson) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("a", a.toAbsolutePath().toString());
            m.put("b", b.toAbsolutePath().toString());
            m.put("pages", pages);
            m.put("differentPages", total);
            m.put("regions", diffs.stream().map(d -> {
                Map<String, Object> region = new LinkedHashMap<>();
                region.put("name", d.name());
                region.put("pages", d.pages());
                region.put("differentPages", d.differentPages());
                region.put("ranges", d.ranges());
                return region;
            }).toList());
            out.println(toJson(m));
            return;
        }
        Table t = new Table("REGION", "PAGES", "DIFFERENT", "RUNS", "FIRST RUNS (page+count)").numeric(1, 2, 3);
        for (SnapshotDiff.RegionDiff d : diffs) {
            List<String> shown = d.ranges().stream().limit(RANGES_SHOWN).map(r -> r[0] + "+" + r[1]).toList();
            String more = d.ranges().size() > RANGES_SHOWN ? " ..." : "";
            t.row(d.name(), d.pages(), d.differentPages(), d.ranges().size(), String.join(" ", shown) + more);
        }
        t.print(out);
        out.printf("%d of %d pages differ (%.3f%%)%n", total, pages, pages == 0 ? 0 : 100.0 * total / pages);
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
