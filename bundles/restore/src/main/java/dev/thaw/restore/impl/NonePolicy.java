package dev.thaw.restore.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import org.osgi.service.component.annotations.Component;

/** Pure demand loading: one page per fault, no background loading. The worst case, for comparison. */
@Component(service = PagePolicy.class, property = PagePolicy.NAME_PROPERTY + "=" + NonePolicy.NAME)
public final class NonePolicy implements PagePolicy {

    static final String NAME = "none";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "pure demand loading: one 4 KiB page per fault, no background loading (the worst case)";
    }

    @Override
    public PolicySession start(RestoreView restore) {
        return new PolicySession() {
            @Override
            public boolean backgroundLoading() {
                return false;
            }
        };
    }
}
