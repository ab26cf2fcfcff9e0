package dev.thaw.restore.impl;

import java.lang.foreign.MemorySegment;

/** Loads claimed snapshot pages through the restore's {@link MemoryBackend}, and counts them. */
final class PageLoader implements RunLoader {

    private final LazyRestoreImpl restore;
    private final Claims claims;
    private final UffdCopier copier;
    private final MemoryBackend memory;
    private final Figures figures;
    private final HugeRanges huge;

    /** @param huge whole huge-page loads, or null where the restore makes none */
    PageLoader(LazyRestoreImpl restore, Claims claims, UffdCopier copier, MemoryBackend memory, Figures figures,
            HugeRanges huge) {
        this.restore = restore;
        this.claims = claims;
        this.copier = copier;
        this.memory = memory;
        this.figures = figures;
        this.huge = huge;
    }

    /**
     * Puts claimed snapshot pages {@code [first, first+count)} (one region) into guest memory, waking
     * waiters, and reads each once from user space if {@code touch} (see {@link UffdCopier#touch}): they
     * count as loaded after that, so the full load is "loaded and touched". {@code staging} is the calling
     * thread's buffer. False if the restore failed (the failure is reported, naming the page).
     */
    @Override
    public boolean load(long first, long count, MemorySegment staging, boolean touch) {
        figures.loading();
        try {
            figures.read(memory.fill(first, count, staging, copier));
        } catch (PageLoadException e) {
            restore.fail(e.page(), e.getMessage(), e.getCause());
            return false;
        }
        // Ordering: marked loaded before the touch, so that a release never makes these pages inaccessible under it.
        claims.markLoaded(first, count);
        if (touch) {
            copier.touch(first, count);
        }
        if (figures.loaded(count)) {
            restore.maybeComplete();
        }
        return true;
    }

    /**
     * Puts the claimed huge range from {@code first} into guest memory whole ({@link HugeRanges#fill}), as
     * {@link #load} puts a run; its holes count as loaded too. Returns how many of its pages the snapshot holds, or
     * -1 if the restore failed.
     */
    @Override
    public long loadWhole(long first, boolean touch) {
        figures.loading();
        long held;
        try {
            held = huge.fill(first, copier);
        } catch (PageLoadException e) {
            restore.fail(e.page(), e.getMessage(), e.getCause());
            return -1;
        }
        figures.read(huge.bytesOf(held));
        claims.markLoaded(first, huge.rangePages);
        if (touch) {
            copier.touch(first, huge.rangePages);
        }
        if (figures.loaded(held)) {
            restore.maybeComplete();
        }
        return held;
    }

    /** Pages a fault claimed are loaded by the fault service, which counts them; nothing to wait for here. */
    @Override
    public void drained() {}
}
