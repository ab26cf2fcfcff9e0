package dev.thaw.bench.impl;

import dev.thaw.api.policy.PagePolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** The page policies installed now, for both benchmarks of this bundle: built-in ones first, then by name. */
@Component(service = InstalledPolicies.class)
public final class InstalledPolicies {

    /** Built-in policies first, in this order; others after them by name. */
    static final List<String> ORDER = List.of("none", "sequential", "hot-page-first", "prefetch-window");

    private final List<PagePolicy> policies = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addPolicy(PagePolicy policy) {
        policies.add(policy);
    }

    void removePolicy(PagePolicy policy) {
        policies.remove(policy);
    }

    /** One per name, in the benchmarks' order. */
    List<PagePolicy> ordered() {
        List<PagePolicy> list = new ArrayList<>();
        for (PagePolicy p : policies) {
            if (list.stream().noneMatch(q -> q.name().equals(p.name()))) {
                list.add(p);
            }
        }
        list.sort((a, b) -> {
            int ia = rank(a.name());
            int ib = rank(b.name());
            return ia != ib ? Integer.compare(ia, ib) : a.name().compareTo(b.name());
        });
        return list;
    }

    private static int rank(String name) {
        int i = ORDER.indexOf(name);
        return i < 0 ? ORDER.size() : i;
    }
}
