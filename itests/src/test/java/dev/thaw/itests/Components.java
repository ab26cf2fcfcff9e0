package dev.thaw.itests;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.ReferenceDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/** What SCR says about the components of Thaw's bundles, worded for failure messages. Runs in the framework. */
final class Components {

    static final String THAW_PREFIX = "dev.thaw.";

    private Components() {
    }

    static boolean isThaw(Bundle b) {
        return b.getSymbolicName() != null && b.getSymbolicName().startsWith(THAW_PREFIX);
    }

    /** The descriptions of every component of every Thaw bundle. */
    static List<ComponentDescriptionDTO> thawComponents(BundleContext context, ServiceComponentRuntime scr) {
        List<ComponentDescriptionDTO> all = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (isThaw(b)) {
                all.addAll(scr.getComponentDescriptionDTOs(b));
            }
        }
        return all;
    }

    /**
     * One line for each component of a Thaw bundle that is neither satisfied nor active, naming why:
     * disabled, failed activation (with SCR's failure text), missing configuration, or each unsatisfied
     * reference with its service interface and target. A component whose configuration policy is
     * {@code require} and that has no configuration yet is not a problem: it waits for one by design.
     */
    static List<String> problems(BundleContext context, ServiceComponentRuntime scr) {
        List<String> problems = new ArrayList<>();
        for (ComponentDescriptionDTO d : thawComponents(context, scr)) {
            String name = d.bundle.symbolicName + "/" + d.name;
            if (!scr.isComponentEnabled(d)) {
                problems.add(name + ": disabled");
                continue;
            }
            Collection<ComponentConfigurationDTO> configurations = scr.getComponentConfigurationDTOs(d);
            if (configurations.isEmpty() && !"require".equals(d.configurationPolicy)) {
                problems.add(name + ": enabled but SCR made no configuration of it");
            }
            Map<String, ReferenceDTO> references = Arrays.stream(d.references)
                    .collect(Collectors.toMap(r -> r.name, Function.identity()));
            for (ComponentConfigurationDTO c : configurations) {
                switch (c.state) {
                    case ComponentConfigurationDTO.SATISFIED, ComponentConfigurationDTO.ACTIVE -> { }
                    case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> problems.add(name + ": unsatisfied "
                            + Arrays.stream(c.unsatisfiedReferences).map(u -> describe(u, references.get(u.name)))
                                    .collect(Collectors.joining(", ")));
                    case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> problems.add(name
                            + ": no configuration for PID " + String.join(", ", d.configurationPid));
                    case ComponentConfigurationDTO.FAILED_ACTIVATION -> problems.add(name + ": activation failed: " + c.failure);
                    default -> problems.add(name + ": in SCR state " + c.state);
                }
            }
        }
        return problems;
    }

    private static String describe(UnsatisfiedReferenceDTO u, ReferenceDTO r) {
        StringBuilder s = new StringBuilder("reference '").append(u.name).append("'");
        if (r != null) {
            s.append(" to ").append(r.interfaceName).append(" (").append(r.cardinality).append(")");
        }
        if (u.target != null) {
            s.append(" with target ").append(u.target);
        }
        int candidates = u.targetServices == null ? 0 : u.targetServices.length;
        return s.append(candidates == 0 ? ": no such service" : ": " + candidates + " candidates, none usable").toString();
    }

    /** Waits up to 10 s for the Gogo command {@code thaw:<function>} (SCR may lag behind the bundles' start). */
    static void awaitThawCommand(BundleContext context, String function) throws Exception {
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(context,
                context.createFilter("(&(osgi.command.scope=thaw)(osgi.command.function=" + function + "))"), null);
        tracker.open(true);
        try {
            if (tracker.waitForService(10_000) == null) {
                throw new AssertionError("no thaw:" + function + " command within 10 s");
            }
        } finally {
            tracker.close();
        }
    }
}
