package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.vm.GuestMemoryUse;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** {@code thaw:stats} and {@code thaw:profile}: what a lazy restore cost, and its working-set recording. */
@Component(service = StatsCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=stats",
    "osgi.command.function=profile"
})
public final class StatsCommands {

    private final VmManager vms;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Absent without the qemu-postcopy bundle; its serves ({@code thaw:restore --serve}) have figures too. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PostcopyServer server;

    private static final long PAGE = 4096;
    private static final java.time.Duration WAIT_LIMIT = java.time.Duration.ofMinutes(10);

    @Activate
    public StatsCommands(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Descriptor("show the figures of the lazy restore a VM came from, or of a thaw:restore --serve (live while it loads)")
    public void stats(
            CommandSession session,
            @Descriptor("first wait until every page is loaded, showing the loading progress (not for policy none, "
                    + "which loads on demand only)") @Parameter(names = "--wait", presentValue = "true", absentValue = "false") boolean wait,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("VM id, or serve id") String id) throws JsonProcessingException {
        Optional<PostcopyServe> served = vms.find(id).isPresent() || server == null ? Optional.empty() : server.find(id);
        if (served.isPresent()) {
            PostcopyServe serve = served.get();
            RestoreStats s = wait ? awaitServed(serve) : serve.stats();
            Map<String, Object> m = json(id, "qemu", s);
            m.put("destination", serve.destination());
            print(session.getConsole(), m, asJson);
            return;
        }
        Vm vm = find(id);
        RestoreStats s = vm.restoreStats().orElseThrow(() -> new IllegalArgumentException(id + " was not restored lazily; it has no restore figures"));
        if (wait && !s.policy().equals("none")) {
            s = awaitLoaded(vm, s);
        }
        Map<String, Object> m = json(id, vm.info().runtime(), s);
        vm.memoryUse().ifPresent(use -> m.put("hostMemory", memoryJson(use)));
        print(session.getConsole(), m, asJson);
    }

    /** Its guest memory in host memory, in bytes and 4 KiB pages: what it shares with its fleet, what it owns. */
    static Map<String, Object> memoryJson(GuestMemoryUse use) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("residentBytes", use.residentBytes());
        m.put("sharedPages", use.sharedBytes() / PAGE);
        m.put("ownedPages", use.ownedBytes() / PAGE);
        m.put("pssBytes", use.proportionalBytes());
        return m;
    }

    private static void print(PrintStream out, Map<String, Object> m, boolean asJson) {
        if (asJson) {
            out.println(toJson(m));
            return;
        }
        Table t = new Table("FIGURE", "VALUE").numeric(1);
        m.forEach((k, v) -> {
            if (v instanceof Map<?, ?> nested) {
                nested.forEach((nk, nv) -> t.row(k + "." + nk, nv));
            } else {
                t.row(k, v == null ? "-" : v); // not known yet, or (policyProblem) none
            }
        });
        t.print(out);
    }

    /** Waits for the serve to end (it may fail: its figures say how far it got). */
    private static RestoreStats awaitServed(PostcopyServe serve) {
        try {
            return serve.completion().handle((done, failed) -> serve.stats()).get(WAIT_LIMIT.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return serve.stats();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return serve.stats();
        }
    }

    /** Waits for the restore to end, with a progress bar of the bytes loaded. */
    private static RestoreStats awaitLoaded(Vm vm, RestoreStats s) {
        ProgressBar bar = new ProgressBar(vm.id() + " loading", System.err);
        try {
            return vm.awaitLoaded(WAIT_LIMIT, bar).orElse(s);
        } finally {
            bar.finish();
        }
    }

    @Descriptor("save the working-set profile a restore with --record-profile is recording, now")
    public void profile(
            CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("save") String action,
            @Descriptor("VM id") String id) throws JsonProcessingException {
        if (!action.equals("save")) {
            throw new IllegalArgumentException("thaw:profile takes 'save', not '" + action + "'");
        }
        Path saved = find(id).saveProfile();
        session.getConsole().println(asJson ? JSON.writeValueAsString(Map.of("id", id, "profile", saved.toString()))
                : id + ": working-set profile saved to " + saved);
    }

    /** The figures under the names of docs/restore-figures.md, each with its unit; times in milliseconds. */
    static Map<String, Object> json(String id, String runtime, RestoreStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("runtime", runtime);
        m.put("policy", s.policy());
        m.put("phase", s.phase().name().toLowerCase(java.util.Locale.ROOT));
        m.put("pages", s.pages());
        m.put("presentPages", s.presentPages());
        m.put("loadedPages", s.loadedPages());
        m.put("resumeLatencyMs", ms(s.resumeLatency()));
        m.put("fullLoadTimeMs", s.fullLoadTime() > 0 ? ms(s.fullLoadTime()) : null);
        m.put("faults", s.faults());
        m.put("faultLatencyP50Us", s.faultLatencyP50() / 1000.0);
        m.put("faultLatencyP99Us", s.faultLatencyP99() / 1000.0);
        Map<String, Object> blocktime = new TreeMap<>();
        // Faults KVM resolves on a kernel worker thread (async page faults) belong to no vCPU.
        s.blocktime().forEach((vcpu, nanos) -> blocktime.put(vcpu < 0 ? "other" : "vcpu" + vcpu, ms(nanos)));
        m.put("blocktimeMs", blocktime);
        Map<String, Object> byCause = new LinkedHashMap<>();
        byCause.put("fault", s.pagesFault());
        byCause.put("prefetch", s.pagesPrefetch());
        byCause.put("background", s.pagesBackground());
        m.put("pagesByCause", byCause);
        m.put("pagesWasted", s.pagesWasted());
        m.put("bytesRead", s.bytesRead());
        m.put("bandwidthMBps", Math.round(s.bandwidth() / 1e5) / 10.0);
        m.put("policyErrors", s.policyErrors());
        m.put("policyProblem", s.policyProblem());
        return m;
    }

    static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 1e5) / 10.0;
    }

    private Vm find(String id) {
        return Arguments.vm(vms, id);
    }
}
