package dev.thaw.api.policy;

import java.util.List;

/**
 * The pages a guest touched after a restore, in first-touch order, merged into runs: what
 * {@code hot-page-first} loads before anything else.
 *
 * @param snapshotId identifies the snapshot the profile was recorded on
 * @param runs page runs in the order their first page was first touched
 */
public record WorkingSet(String snapshotId, List<PageRange> runs) {

    public WorkingSet {
        runs = List.copyOf(runs);
    }

    public long pages() {
        return runs.stream().mapToLong(PageRange::count).sum();
    }
}
