package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.vm.FleetInfo;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code thaw:fleet}: the fleets restored with {@code thaw:restore --count N}, and the host memory each holds. */
@Component(service = FleetCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=fleet"
})
public final class FleetCommands {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final VmManager vms;

    @Activate
    public FleetCommands(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Descriptor("list the fleets (thaw:restore --count N): their VMs, and their host memory against N separate copies of the snapshot")
    public void fleet(
            CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson) {
        List<FleetInfo> fleets = vms.fleets();
        PrintStream out = session.getConsole();
        if (asJson) {
            out.println(toJson(fleets.stream().map(FleetCommands::json).toList()));
            return;
        }
        print(fleets, out);
    }

    /** The table of {@code fleets}, then each problem with its snapshot file on a line of its own. */
    static void print(List<FleetInfo> fleets, PrintStream out) {
        if (fleets.isEmpty()) {
            out.println("no fleets (thaw:restore --count N FILE restores one)");
            return;
        }
        Table t = new Table("FLEET", "VMS", "SHARED", "HOST MEMORY", "CACHE", "N x SNAPSHOT", "OF N x SNAPSHOT", "FILE")
                .numeric(1, 3, 4, 5, 6);
        for (FleetInfo f : fleets) {
            t.row(f.name(), f.members().size(), f.shared() ? "yes" : "no", Sizes.approximate(f.hostBytes()),
                    Sizes.approximate(f.cacheBytes()), Sizes.approximate(f.unsharedBytes()), percent(f.hostBytes(), f.unsharedBytes()),
                    f.file());
        }
        t.print(out);
        for (FleetInfo f : fleets) {
            f.problem().ifPresent(problem -> out.println(f.name() + ": " + problem));
        }
    }

    /** {@code thaw:restore --count N [--share]}: restores the fleet and says how it went. */
    static void restore(VmManager vms, RestoreOptions options, int count, boolean share, PrintStream out, boolean asJson) {
        ProgressBar bar = new ProgressBar("restore", System.err);
        List<Vm> members;
        try {
            members = vms.restoreFleet(options, count, share, bar);
        } finally {
            bar.finish();
        }
        String fleet = fleetOf(members.getFirst().id());
        if (asJson) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fleet", fleet);
            m.put("file", options.file().toAbsolutePath().toString());
            m.put("shared", share);
            List<Map<String, Object>> infos = new ArrayList<>();
            members.forEach(vm -> infos.add(VmCommands.infoJson(vm.info())));
            m.put("vms", infos);
            out.println(toJson(m));
            return;
        }
        double first = Double.MAX_VALUE;
        double last = 0;
        for (Vm vm : members) {
            double ms = VmCommands.millis(vm.info().resumeLatency());
            first = Math.min(first, ms);
            last = Math.max(last, ms);
        }
        out.printf("%s: %d VMs (%s to %s) restored from %s (%s%s): vCPUs running %.1f to %.1f ms after the restore command%n",
                fleet, members.size(), members.getFirst().id(), members.getLast().id(), options.file(),
                options.eager() ? "eager" : "lazy", share ? ", sharing its pages" : "", first, last);
    }

    private static String fleetOf(String memberId) {
        return memberId.substring(0, memberId.lastIndexOf('-'));
    }

    static Map<String, Object> json(FleetInfo f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", f.name());
        m.put("file", f.file().toAbsolutePath().toString());
        m.put("shared", f.shared());
        m.put("vms", f.members());
        m.put("hostBytes", f.hostBytes());
        m.put("cacheBytes", f.cacheBytes());
        m.put("snapshotBytes", f.snapshotBytes());
        m.put("unsharedBytes", f.unsharedBytes());
        m.put("problem", f.problem().orElse(null));
        return m;
    }

    private static String percent(long part, long whole) {
        return whole == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }

    private static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
