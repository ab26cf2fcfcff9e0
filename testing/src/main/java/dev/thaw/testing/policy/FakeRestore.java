package dev.thaw.testing.policy;

import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.policy.WorkingSet;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An in-memory {@link RestoreView} for policy tests: a loaded bitmap the test drives (as the engine's
 * claim bitmap would be), optional holes (pages not in the snapshot), an optional working set and
 * parameters. Thread-safe, so concurrent sessions can be hammered against it.
 */
public final class FakeRestore implements RestoreView {

    public static final int PAGE_SIZE = 4096;

    private final long pageCount;
    private final BitSet loaded = new BitSet();
    private final BitSet holes = new BitSet();
    private final Map<String, Object> parameters = new HashMap<>();
    private WorkingSet workingSet;
    private long outOfRange;

    private FakeRestore(long pageCount) {
        if (pageCount < 1 || pageCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a fake restore has 1 to 2^31-1 pages, not " + pageCount);
        }
        this.pageCount = pageCount;
    }

    public static FakeRestore of(long pageCount) {
        return new FakeRestore(pageCount);
    }

    /** Makes {@code range} pages holes: not in the snapshot. */
    public synchronized FakeRestore withHoles(PageRange range) {
        holes.set((int) range.first(), (int) Math.min(range.end(), pageCount));
        return this;
    }

    public synchronized FakeRestore withWorkingSet(List<PageRange> runs) {
        workingSet = new WorkingSet("fake-snapshot", runs);
        return this;
    }

    public synchronized FakeRestore with(String key, Object value) {
        parameters.put(key, value);
        return this;
    }

    /** What the engine does with a range a session returned: loads its unloaded in-range pages. Returns how many it loaded. */
    public synchronized long load(PageRange range) {
        if (range.end() > pageCount) {
            outOfRange++;
        }
        long end = Math.min(range.end(), pageCount);
        long before = loaded.cardinality();
        if (range.first() < end) {
            loaded.set((int) range.first(), (int) end);
        }
        return loaded.cardinality() - before;
    }

    public long load(List<PageRange> ranges) {
        return ranges.stream().mapToLong(this::load).sum();
    }

    public synchronized long loadedPages() {
        return loaded.cardinality();
    }

    /** Ranges that reached past the end of memory (the engine counts these as policy errors). */
    public synchronized long outOfRangeRanges() {
        return outOfRange;
    }

    @Override
    public long pageCount() {
        return pageCount;
    }

    @Override
    public int pageSize() {
        return PAGE_SIZE;
    }

    @Override
    public synchronized boolean inSnapshot(long page) {
        return page >= 0 && page < pageCount && !holes.get((int) page);
    }

    @Override
    public synchronized boolean isLoaded(long page) {
        return page >= 0 && page < pageCount && loaded.get((int) page);
    }

    @Override
    public synchronized long nextUnloaded(long from) {
        if (from >= pageCount) {
            return pageCount;
        }
        return Math.min(pageCount, loaded.nextClearBit((int) Math.max(0, from)));
    }

    @Override
    public synchronized Optional<WorkingSet> workingSet() {
        return Optional.ofNullable(workingSet);
    }

    @Override
    public synchronized Map<String, Object> parameters() {
        return Map.copyOf(parameters);
    }
}
