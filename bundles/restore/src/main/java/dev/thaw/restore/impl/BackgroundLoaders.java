package dev.thaw.restore.impl;

import dev.thaw.api.policy.PageRange;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background loaders: each claims runs of snapshot-held pages (the policy's order, then address
 * order), reads them into its thread's staging buffer ({@link Staging}), copies them in and, if asked to, reads
 * each once from user space (so the guest's first access to it is as cheap as any later one), and pauses while
 * the fault service has faults in hand. Where they can, they load whole huge pages instead ({@link HugeRanges}),
 * holes included; holes are never loaded here otherwise.
 */
final class BackgroundLoaders {

    private static final Logger LOG = LoggerFactory.getLogger(BackgroundLoaders.class);

    /**
     * Pages per background copy: 512 KiB. In {@code ./thaw bench restore} runs, 256 KiB loaded 10 to 30%
     * slower (more calls per byte) and 1 MiB made a fault on a page being loaded wait for up to 5 ms.
     */
    static final int LOADER_CHUNK_PAGES = 128;
    /** Consecutive next() batches with nothing left to load before the loaders stop asking the policy. */
    static final int MAX_IDLE_BATCHES = 1_000;

    private final LazyRestoreImpl restore;
    private final RestorePhase phase;
    private final Pages pages;
    private final Claims claims;
    private final GuardedPolicy policy;
    private final RunLoader loader;
    private final HugeRanges huge;
    private final Figures figures;
    private final FaultService faults;
    private final int threads;
    private final boolean touch;

    private final AtomicBoolean started = new AtomicBoolean();
    private final List<Task> tasks = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedDeque<PageRange> policyQueue = new ConcurrentLinkedDeque<>();
    /** Runs of snapshot pages claimed already, left by a whole huge page that could not be claimed: loaded first. */
    private final ConcurrentLinkedDeque<PageRange> claimedRuns = new ConcurrentLinkedDeque<>();
    /** Set once the policy has nothing more to say (or is disabled): address order from then on. */
    private volatile boolean policyExhausted;
    private final AtomicLong sweepCursor = new AtomicLong();

    /**
     * @param threads loaders to start; at least one, even where the request asked for none
     * @param touch whether each page loaded is read once from user space before it counts as loaded
     * @param huge whole huge-page loads, or null where the loaders make none
     */
    BackgroundLoaders(LazyRestoreImpl restore, RestorePhase phase, Pages pages, Claims claims, GuardedPolicy policy,
            RunLoader loader, HugeRanges huge, Figures figures, FaultService faults, int threads, boolean touch) {
        this.restore = restore;
        this.phase = phase;
        this.pages = pages;
        this.claims = claims;
        this.policy = policy;
        this.loader = loader;
        this.huge = huge;
        this.figures = figures;
        this.faults = faults;
        this.threads = Math.max(1, threads);
        this.touch = touch;
    }

    /** The policy was disabled: stop asking it. */
    void policyDisabled() {
        policyExhausted = true;
    }

    /** Starts the loaders, once, while the restore is active; a refused start fails the restore. */
    void start() {
        if (!phase.active() || !started.compareAndSet(false, true)) {
            return;
        }
        for (int i = 0; i < threads && phase.active(); i++) {
            Task t = restore.start("thaw-restore-loader-" + i, this::run);
            if (t == null) {
                return;
            }
            tasks.add(t);
        }
    }

    /** Waits up to {@code millis} for each loader to end. */
    void await(long millis) {
        for (Task t : tasks) {
            t.await(millis);
        }
    }

    private void run() {
        try {
            MemorySegment staging = Staging.of((long) LOADER_CHUNK_PAGES * pages.pageSize, pages.pageSize);
            long[] run = new long[3];
            while (phase.active()) {
                // Claimed runs go first, without yielding: a fault on one of their pages waits for them.
                if (!takeClaimed(run)) {
                    yieldToFaults();
                    if (!nextRun(run)) {
                        loader.drained();
                        return;
                    }
                }
                long held = run[2] != 0 ? loader.loadWhole(run[0], touch)
                        : loader.load(run[0], run[1], staging, touch) ? run[1] : -1;
                if (held < 0) {
                    return;
                }
                figures.background(held);
            }
        } catch (RuntimeException | Error e) {
            if (phase.active()) {
                LOG.error("restore loader failed", e);
            }
            restore.fail(-1, "a background loader failed: " + e, e);
        }
    }

    private void yieldToFaults() {
        while (faults.faultsInHand() > 0 && phase.active()) {
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /**
     * Claims the next run to load in the background into {@code run} ({first, count, 1 if a whole huge page});
     * false when none.
     */
    private boolean nextRun(long[] run) {
        int idle = 0;
        while (!policyExhausted && phase.active()) {
            PageRange r = policyQueue.pollFirst();
            if (r == null) {
                // One loader asks the policy at a time; the others look again (see GuardedPolicy.next).
                List<PageRange> next = policy.next(() -> policyQueue.isEmpty() && !policyExhausted);
                if (next == null) {
                    continue;
                }
                if (next.isEmpty() || ++idle > MAX_IDLE_BATCHES) {
                    policyExhausted = true;
                }
                if (!policy.disabled()) {
                    policyQueue.addAll(next);
                }
                continue;
            }
            if (claimIn(r.first(), r.end(), run)) {
                if (run[0] + run[1] < r.end()) {
                    policyQueue.addFirst(new PageRange(run[0] + run[1], r.end() - run[0] - run[1]));
                }
                return true;
            }
        }
        long total = pages.total();
        while (phase.active()) {
            long from = sweepCursor.get();
            if (from >= total) {
                break;
            }
            if (claimIn(from, total, run)) {
                sweepCursor.accumulateAndGet(run[0] + run[1], Math::max);
                return true;
            }
            sweepCursor.accumulateAndGet(total, Math::max);
        }
        return takeClaimed(run);
    }

    private boolean takeClaimed(long[] run) {
        PageRange r = claimedRuns.pollFirst();
        if (r == null) {
            return false;
        }
        run[0] = r.first();
        run[1] = r.count();
        run[2] = 0;
        return true;
    }

    /**
     * Claims the first run of claimable snapshot pages in {@code [from, end)}, within one region: the whole huge
     * page around its first page where {@link #claimWhole} can, else at most a chunk of snapshot pages.
     */
    private boolean claimIn(long from, long end, long[] run) {
        for (long p = from; p < end; p++) {
            if (claims.claimed(p) || !pages.present(p)) {
                continue;
            }
            if (claimWhole(p, run) || takeClaimed(run)) {
                return true; // the whole huge page, or the pages a whole claim kept (their faults wait for them)
            }
            if (!claims.claim(p)) {
                continue;
            }
            long limit = Math.min(end, pages.regionEnd(p));
            if (huge != null) {
                limit = Math.min(limit, huge.rangeEnd(p)); // the next huge page may yet be loaded whole
            }
            long q = p + 1;
            while (q < limit && q - p < LOADER_CHUNK_PAGES && pages.present(q) && claims.claim(q)) {
                q++;
            }
            run[0] = p;
            run[1] = q - p;
            run[2] = 0;
            return true;
        }
        return false;
    }

    /**
     * Claims the huge page around {@code page} whole if it may be loaded so ({@link HugeRanges#rangeOf}) and nobody
     * claimed any of its pages: also where the policy asked for less of it, since its pages loaded one by one would
     * each pay a first touch dearer than the whole range's read. Pages claimed on the way to a page someone else
     * claimed meanwhile are queued, claimed, to be loaded page by page ({@link HugeRanges#claim}).
     */
    private boolean claimWhole(long page, long[] run) {
        long first = huge == null ? -1 : huge.rangeOf(page);
        if (first < 0 || claims.claimed(first) || !huge.claim(first, -1, LOADER_CHUNK_PAGES, claimedRuns::addLast)) {
            return false;
        }
        run[0] = first;
        run[1] = huge.rangePages;
        run[2] = 1;
        return true;
    }
}
