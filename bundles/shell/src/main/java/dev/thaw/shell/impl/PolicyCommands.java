package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.policy.PagePolicy;
import java.io.PrintStream;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
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

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addPolicy(PagePolicy policy) {
        policies.add(policy);
    }

    void removePolicy(PagePolicy policy) {
        policies.remove(policy);
    }

    @Descriptor("list the installed page policies, which thaw:restore --policy takes")
    public void policies(
            CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson)
            throws JsonProcessingException {
        List<PagePolicy> sorted = policies.stream().sorted(Comparator.comparing(PagePolicy::name)).toList();
        PrintStream out = session.getConsole();
        if (asJson) {
            List<Map<String, Object>> rows = sorted.stream().map(p -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", p.name());
                m.put("description", p.description());
                return m;
            }).toList();
            out.println(json.writeValueAsString(Map.of("policies", rows)));
            return;
        }
        Table table = new Table("POLICY", "DESCRIPTION");
        sorted.forEach(p -> table.row(p.name(), p.description()));
        table.print(out);
    }
}
