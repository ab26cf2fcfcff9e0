package dev.thaw.restore.impl;

import java.lang.foreign.MemorySegment;
import java.util.function.BooleanSupplier;

/**
 * The background loaders of a shared fleet's member: they read the runs they claim in the fleet's page cache
 * ({@link SharedPageCacheImpl#claims}) into the cache, and map nothing into the member's guest memory. The
 * member's restore is complete once the cache holds every snapshot page; its userfaultfd then goes, and the
 * kernel maps each page from the cache when the guest first touches it. Mapping every page into every member
 * would cost each member a first touch per 4 KiB page it may never use (about 5 µs here, ENVIRONMENT.md), and a
 * page table for all of them.
 */
final class CacheFill implements RunLoader {

    private final LazyRestoreImpl restore;
    private final SharedPageCacheImpl cache;
    private final Figures figures;
    private final BooleanSupplier active;

    CacheFill(LazyRestoreImpl restore, SharedPageCacheImpl cache, Figures figures, BooleanSupplier active) {
        this.restore = restore;
        this.cache = cache;
        this.figures = figures;
        this.active = active;
    }

    @Override
    public boolean load(long first, long count, MemorySegment staging, boolean touch) {
        figures.loading();
        try {
            figures.read(cache.readIn(first, count));
        } catch (PageLoadException e) {
            restore.fail(e.page(), e.getMessage(), e.getCause());
            return false;
        }
        if (cache.complete()) {
            restore.maybeComplete();
        }
        return true;
    }

    /** The shared cache's pages are never moved whole ({@link HugeRanges} is for anonymous memory). */
    @Override
    public long loadWhole(long first, boolean touch) {
        throw new IllegalStateException("a shared page cache loads no whole huge pages");
    }

    @Override
    public void drained() {
        try {
            cache.awaitComplete(active);
        } catch (PageLoadException e) {
            restore.fail(e.page(), e.getMessage(), e.getCause());
            return;
        }
        restore.maybeComplete();
    }
}
