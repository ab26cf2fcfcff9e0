package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.vm.RestoreSettings;
import dev.thaw.api.vm.VmManager;
import java.io.PrintStream;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** {@code thaw:policies}: the page policies installed now (bundles come and go while Thaw runs). */
@Component(service = PolicyCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=policies"
})
public final class PolicyCommands {

    private final List<PagePolicy> policies = new CopyOnWriteArrayList<>();
    private final ObjectMapper json = new ObjectMapper();
    private final VmManager vms;
    private final BundleContext context;

    @Activate
    public PolicyCommands(@Reference VmManager vms, BundleContext context) {
        this.vms = vms;
        this.context = context;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addPolicy(PagePolicy policy) {
        policies.add(policy);
    }

    void removePolicy(PagePolicy policy) {
        policies.remove(policy);
    }

    @Descriptor("list the installed page policies, which thaw:restore --policy takes, the restore settings in force "
            + "(config/dev.thaw.restore.cfg), and policy bundles that could not be used, with the reason")
    public void policies(
            CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson)
            throws JsonProcessingException {
        List<PagePolicy> sorted = policies.stream().sorted(Comparator.comparing(PagePolicy::name)).toList();
        RestoreSettings settings = vms.restoreSettings();
        PrintStream out = session.getConsole();
        if (asJson) {
            List<Map<String, Object>> rows = sorted.stream().map(p -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", p.name());
                m.put("description", p.description());
                m.put("default", p.name().equals(settings.defaultPolicy()));
                return m;
            }).toList();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("policies", rows);
            m.put("defaultPolicy", settings.defaultPolicy());
            m.put("fallbackPolicy", settings.fallbackPolicy());
            m.put("loaderThreads", settings.loaderThreads());
            m.put("profileDirectory", settings.profileDirectory());
            m.put("lastRejected", settings.lastRejected());
            m.put("unresolved", PolicyBundles.unresolved(context));
            out.println(json.writeValueAsString(m));
            return;
        }
        Table table = new Table("POLICY", "DEFAULT", "DESCRIPTION");
        sorted.forEach(p -> table.row(p.name(), p.name().equals(settings.defaultPolicy()) ? "*" : "", p.description()));
        table.print(out);
        out.printf("%ndefault policy %s, fallback %s, %d loader threads, profiles %s (config/dev.thaw.restore.cfg)%n",
                settings.defaultPolicy(), settings.fallbackPolicy().isEmpty() ? "none" : settings.fallbackPolicy(),
                settings.loaderThreads(), settings.profileDirectory().isEmpty() ? "beside their snapshots"
                        : "in " + settings.profileDirectory());
        if (sorted.stream().noneMatch(p -> p.name().equals(settings.defaultPolicy()))) {
            out.println("warning: the default policy " + settings.defaultPolicy() + " is not installed");
        }
        if (!settings.lastRejected().isEmpty()) {
            out.println("warning: " + settings.lastRejected());
        }
        PolicyBundles.unresolved(context).forEach(line -> out.println("not usable: " + line));
    }
}
