package dev.thaw.machine.impl;

import dev.thaw.api.policy.PagePolicy;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The page policies installed now (they come and go with their bundles), and which one a restore gets. */
final class InstalledPolicies {

    private static final Logger LOG = LoggerFactory.getLogger(InstalledPolicies.class);

    private final List<PagePolicy> policies = new CopyOnWriteArrayList<>();

    void add(PagePolicy policy) {
        policies.add(policy);
    }

    void remove(PagePolicy policy) {
        policies.remove(policy);
    }

    /** {@code none} where installed, else any policy: for warming up the restore path. */
    Optional<PagePolicy> any() {
        return installed("none").or(() -> policies.stream().findFirst());
    }

    /** The installed policy {@code name}, else the fallback (with a warning), else a clear refusal. */
    PagePolicy choose(String name, String fallback) {
        Optional<PagePolicy> found = installed(name);
        if (found.isPresent()) {
            return found.get();
        }
        String installed = String.join(", ", policies.stream().map(PagePolicy::name).sorted().toList());
        Optional<PagePolicy> instead = fallback.isEmpty() ? Optional.empty() : installed(fallback);
        if (instead.isPresent()) {
            LOG.warn("no page policy named '{}' is installed; restoring with the fallback policy {} (installed: {})", name,
                    fallback, installed);
            return instead.get();
        }
        throw new IllegalArgumentException("no page policy named '" + name + "' is installed (installed: " + installed + ")"
                + (fallback.isEmpty() ? "; config/" + RestoreDefaults.PID + ".cfg names no fallbackPolicy"
                        : "; nor is the fallback policy '" + fallback + "'"));
    }

    private Optional<PagePolicy> installed(String name) {
        return policies.stream().filter(p -> p.name().equals(name)).findFirst();
    }
}
