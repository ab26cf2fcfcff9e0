package dev.thaw.restore.impl;

import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.policy.WorkingSet;
import java.util.Map;
import java.util.Optional;

/** What a policy's session sees of its restore: the pages, which the snapshot holds, which are in. */
final class PolicyView implements RestoreView {

    private final Pages pages;
    private final Claims claims;
    private final ProfileRecorder profile;
    private final Map<String, Object> parameters;

    PolicyView(Pages pages, Claims claims, ProfileRecorder profile, Map<String, Object> parameters) {
        this.pages = pages;
        this.claims = claims;
        this.profile = profile;
        this.parameters = parameters;
    }

    @Override
    public long pageCount() {
        return pages.total();
    }

    @Override
    public int pageSize() {
        return pages.pageSize;
    }

    @Override
    public boolean inSnapshot(long page) {
        return page >= 0 && page < pages.total() && pages.present(page);
    }

    /** Zero pages count as loaded: they never need loading (see {@link LazyRestoreImpl}). */
    @Override
    public boolean isLoaded(long page) {
        return page >= 0 && page < pages.total() && (claims.claimed(page) || !pages.present(page));
    }

    @Override
    public long nextUnloaded(long from) {
        long total = pages.total();
        for (long p = Math.max(0, from); p < total; p++) {
            if (!claims.claimed(p) && pages.present(p)) {
                return p;
            }
        }
        return total;
    }

    @Override
    public Optional<WorkingSet> workingSet() {
        return profile.workingSet();
    }

    @Override
    public Map<String, Object> parameters() {
        return parameters;
    }
}
