package dev.thaw.bench.impl;

import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs one {@link EagerPath}: a region's present pages read into fresh memory, then each of them touched
 * once from user space. Timed to both: the load, and the load and the touch (the figure that counts, since
 * a page's first access can cost more than its read, see {@link LoadTiming}).
 */
final class EagerLoadRow {

    /** Threads share the region in pieces of whole huge pages, so no huge page has two writers. */
    private static final long SHARE_ALIGN = 2L << 20;

    private EagerLoadRow() {}

    static LoadTiming run(EagerPath path, SnapshotReader view, SnapshotRegion region) {
        try (Mapping memory = FileLoadBench.anonymous(region.size())) {
            long start = System.nanoTime();
            if (path.hugePages()) {
                Libc.madvise(memory.address(), memory.size(), Libc.MADV_HUGEPAGE);
            }
            if (path.populateFirst()) {
                Libc.madvise(memory.address(), memory.size(), Libc.MADV_POPULATE_WRITE);
            }
            read(path, view, region, memory.segment());
            long loaded = System.nanoTime();
            touch(view, region, memory.segment());
            return LoadTiming.of(start, loaded, System.nanoTime());
        }
    }

    private static void read(EagerPath path, SnapshotReader view, SnapshotRegion region, MemorySegment memory) {
        long pageSize = region.pageSize();
        long share = Math.ceilDiv(region.pages() * pageSize / path.threads(), SHARE_ALIGN) * SHARE_ALIGN / pageSize;
        List<FutureTask<Void>> others = new ArrayList<>();
        for (int t = 1; t < path.threads(); t++) {
            long from = Math.min(region.pages(), t * share);
            FutureTask<Void> task = new FutureTask<>(() -> readRange(path, view, region, memory, from,
                    Math.min(region.pages(), from + share)), null);
            others.add(task);
            Thread.ofPlatform().name("bench-eager-" + t).start(task);
        }
        readRange(path, view, region, memory, 0, Math.min(region.pages(), share));
        for (FutureTask<Void> task : others) {
            try {
                task.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("bench: interrupted");
            }
        }
    }

    /** A read per run of present pages in {@code [from, to)}, of at most {@link EagerPath#readBytes()}. */
    private static void readRange(EagerPath path, SnapshotReader view, SnapshotRegion region, MemorySegment memory,
            long from, long to) {
        long pageSize = region.pageSize();
        long maxRun = Math.max(1, path.readBytes() / pageSize);
        for (long page = from; page < to; ) {
            if (!view.isPresent(0, page)) {
                page++;
                continue;
            }
            long end = page + 1;
            while (end < to && end - page < maxRun && view.isPresent(0, end)) {
                end++;
            }
            view.readPages(0, page, end - page, memory.asSlice(page * pageSize, (end - page) * pageSize));
            page = end;
        }
    }

    /**
     * One read from user space of each present 4 KiB page; absent pages are left alone, as a guest would
     * find them zero without the host allocating them. Only for memory no userfaultfd serves (a Java thread
     * must never wait for one).
     */
    static long touch(SnapshotReader view, SnapshotRegion region, MemorySegment memory) {
        long sum = 0;
        long pageSize = region.pageSize();
        for (long page = 0; page < region.pages(); page++) {
            if (view.isPresent(0, page)) {
                for (long at = page * pageSize; at < (page + 1) * pageSize; at += 4096) {
                    sum += memory.get(ValueLayout.JAVA_BYTE, at);
                }
            }
        }
        return sum;
    }
}
