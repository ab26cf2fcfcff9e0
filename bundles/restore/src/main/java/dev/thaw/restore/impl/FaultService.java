package dev.thaw.restore.impl;

import dev.thaw.api.policy.PageRange;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Userfaultfd;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault service: owns the userfaultfd's read side. It polls the uffd and the stop signal, serves each
 * fault (the page, plus the policy's range around it in one UFFDIO_COPY, then wakes; the policy's other
 * ranges after the wake), and releases the restore when it completed or failed.
 */
final class FaultService {

    private static final Logger LOG = LoggerFactory.getLogger(FaultService.class);

    /** Pages per copy on the fault path at most (the policy's range around the faulting page). */
    static final int FAULT_CHUNK_PAGES = 512;
    /** Fault messages taken per read(2): one per vCPU that can be waiting, with room to spare. */
    static final int MESSAGES_PER_READ = 64;
    static final String NAME = "thaw-restore-faults";
    private static final int[] POLL_IN = {Libc.POLLIN, Libc.POLLIN};

    private final LazyRestoreImpl restore;
    private final RestoreRequest request;
    private final RestorePhase phase;
    private final Pages pages;
    private final Claims claims;
    private final UffdCopier copier;
    private final StopSignal stop;
    private final GuardedPolicy policy;
    private final PageLoader loader;
    private final Figures figures;
    private final ProfileRecorder profile;
    private final HugeRanges huge;

    private volatile Task task;
    /** Counts fault services: one that a hung policy held up, when it returns, sees it was replaced and ends. */
    private final AtomicInteger generation = new AtomicInteger();
    /** Faults read and not yet served: loaders wait while it is above zero. */
    private final AtomicInteger faultsInHand = new AtomicInteger();
    /** The batch being served and the index of the fault in it, for the watchdog. */
    private volatile List<Userfaultfd.Message> batchInHand = List.of();
    private volatile int servingIndex;
    /** The faults of the batch in hand put off until the rest is served (they are the batch in hand after it). */
    private volatile List<Userfaultfd.Message> laterInHand = List.of();

    FaultService(LazyRestoreImpl restore, RestoreRequest request, RestorePhase phase, Pages pages, Claims claims,
            UffdCopier copier, StopSignal stop, GuardedPolicy policy, PageLoader loader, Figures figures,
            ProfileRecorder profile, HugeRanges huge) {
        this.restore = restore;
        this.request = request;
        this.phase = phase;
        this.pages = pages;
        this.claims = claims;
        this.copier = copier;
        this.stop = stop;
        this.policy = policy;
        this.loader = loader;
        this.figures = figures;
        this.profile = profile;
        this.huge = huge;
    }

    /** Starts the service; throws what the executor throws when it refuses. */
    void start(Executor executor) {
        task = Task.start(executor, NAME, this::run);
    }

    /** Waits up to {@code millis} for the service to end. */
    void await(long millis) {
        Task t = task;
        if (t != null) {
            t.await(millis);
        }
    }

    int faultsInHand() {
        return faultsInHand.get();
    }

    private void run() {
        int mine = generation.get();
        try {
            MemorySegment staging = Staging.of((long) FAULT_CHUNK_PAGES * pages.pageSize, pages.pageSize);
            while (phase.serving() && mine == generation.get()) {
                int[] revents = poll();
                if (revents == null || revents[1] != 0) {
                    break;
                }
                if ((revents[0] & Libc.POLLIN) == 0) {
                    continue;
                }
                faultsInHand.incrementAndGet();
                try {
                    // One read(2) takes every queued fault; the next poll says when there are more.
                    List<Userfaultfd.Message> batch = copier.read(MESSAGES_PER_READ);
                    long t0 = System.nanoTime(); // a fault's service time includes waiting behind others of its batch
                    // Faults on pages another thread is loading (a whole huge page takes a while) go last, so that
                    // they hold up no other vCPU's fault; each batch in hand in turn, for the watchdog's rescue.
                    List<Userfaultfd.Message> later = new ArrayList<>();
                    laterInHand = later;
                    for (List<Userfaultfd.Message> part : List.of(batch, later)) {
                        batchInHand = part;
                        for (int i = 0; i < part.size() && mine == generation.get(); i++) {
                            servingIndex = i;
                            Userfaultfd.Message m = part.get(i);
                            if (part == batch && beingLoaded(m)) {
                                later.add(m);
                            } else if (m.isPagefault() && phase.active()) {
                                serve(m, t0, staging, mine);
                            }
                        }
                    }
                } finally {
                    if (mine == generation.get()) {
                        faultsInHand.decrementAndGet();
                    }
                }
            }
        } catch (PageLoadException e) {
            restore.fail(e.page(), e.getMessage(), e.getCause());
        } catch (RuntimeException | Error e) {
            if (phase.active()) {
                LOG.error("restore fault service failed", e);
            }
            restore.fail(-1, "the fault service failed: " + e, e);
        }
        // After a failure too: a vCPU waiting on a page that will never come gets EFAULT now (the
        // pages are made inaccessible before unregistering), instead of waiting until close().
        RestorePhase.Stage end = phase.stage();
        if (mine == generation.get() && (end == RestorePhase.Stage.FAILED || end == RestorePhase.Stage.COMPLETE)) {
            restore.release();
        }
    }

    /** Whether {@code m} is a fault on a page another thread claimed and has not loaded yet. */
    private boolean beingLoaded(Userfaultfd.Message m) {
        if (!m.isPagefault()) {
            return false;
        }
        long page = pages.pageAt(m.address());
        return page >= 0 && claims.claimed(page) && !claims.loaded(page);
    }

    /** Polls the uffd and the stop signal, under leases on both; null once either is closed. */
    private int[] poll() {
        int stopFd = stop.fd().tryAcquire();
        if (stopFd < 0) {
            return null;
        }
        try {
            int uffdFd = copier.fd().tryAcquire();
            if (uffdFd < 0) {
                return null;
            }
            try {
                return Libc.poll(new int[] {uffdFd, stopFd}, POLL_IN, -1);
            } finally {
                copier.fd().release();
            }
        } finally {
            stop.fd().release();
        }
    }

    /** The watchdog's part when the policy held this service in onFault: serve its faults, start a new one. */
    void rescue() {
        List<Userfaultfd.Message> held = batchInHand;
        int from = servingIndex;
        generation.incrementAndGet(); // the stuck service ends when (if) the policy returns
        faultsInHand.decrementAndGet(); // the stuck service's count
        MemorySegment staging = Staging.of((long) FAULT_CHUNK_PAGES * pages.pageSize, pages.pageSize);
        long t0 = System.nanoTime();
        List<Userfaultfd.Message> rest = new ArrayList<>(held.subList(Math.min(from, held.size()), held.size()));
        if (held != laterInHand) {
            rest.addAll(laterInHand); // put off by the stuck service, which was still serving its batch
        }
        for (Userfaultfd.Message m : rest) {
            if (m.isPagefault() && phase.active()) {
                serve(m, t0, staging, -1);
            }
        }
        Task next = restore.start(NAME, this::run);
        if (next == null) {
            restore.release(); // no fault service will: the waiting vCPUs get EFAULT now
        } else {
            task = next;
        }
    }

    /** @param mine the fault service's generation, or -1 for the watchdog's rescue (which no policy can hold up) */
    private void serve(Userfaultfd.Message message, long t0, MemorySegment staging, int mine) {
        long page = pages.pageAt(message.address());
        if (page < 0) {
            LOG.warn("fault at 0x{} outside guest memory", Long.toHexString(message.address()));
            return;
        }
        int vcpu = vcpuOf(message.ptid());
        boolean recording = phase.recording();
        List<PageRange> extras = recording ? List.of() : policy.onFault(page, vcpu);
        if (mine >= 0 && mine != generation.get()) {
            return; // this service was replaced while the policy held it; the watchdog served this fault
        }
        figures.noteFault(page);
        if (claimOrAwait(page)) {
            profile.touch(page);
            if (!pages.present(page)) {
                if (copier.zero(page, 1, true) > 0) {
                    figures.faultPage();
                }
            } else if (!loadWholeAround(page, extras, staging)) {
                long[] run = around(page, extras);
                if (!loader.load(run[0], run[1] - run[0], staging, false)) {
                    return;
                }
                figures.faultPage();
                long prefetched = run[1] - run[0] - 1;
                if (prefetched > 0) {
                    figures.prefetched(run[0], run[1], prefetched);
                }
            }
        } else if (claims.loaded(page)) {
            copier.wake(page); // in case the load came before this thread queued
        } else {
            return; // the restore ended
        }
        figures.fault(vcpu, System.nanoTime() - t0);
        for (PageRange r : extras) {
            if (phase.active()) {
                prefetch(r, staging); // what is loaded or claimed already (the fault's own run) is skipped
            }
        }
    }

    /**
     * Loads the whole huge page around the claimed snapshot page {@code page} (one mapping for all its pages, see
     * {@link HugeRanges}) where that range may be loaded whole and the policy asked for more than the page, however
     * little: a 4 KiB page put in the range would leave the rest of it to be loaded page by page, each page's first
     * touch dearer than the whole range's read. A fault the policy asks nothing for (policy {@code none}, a recording,
     * a fault before the policy's session opened) loads its page alone. True if it tried (a failure is the
     * restore's); false if the range is not to be loaded whole.
     */
    private boolean loadWholeAround(long page, List<PageRange> extras, MemorySegment staging) {
        long first = huge == null || extras.isEmpty() ? -1 : huge.rangeOf(page);
        if (first < 0) {
            return false;
        }
        if (loadRange(first, page, staging) >= 0) {
            figures.faultPage();
        }
        return true;
    }

    /**
     * Claims the huge range from {@code first} (all of it but {@code mine}, a snapshot page of it this thread claimed
     * already, or -1) and loads it whole. Where another thread claimed one of its pages meanwhile, {@code mine} and
     * the pages claimed on the way are loaded page by page instead ({@link HugeRanges#claim}). The pages loaded
     * besides {@code mine} count as prefetched. Returns how many those were, or -1 once the restore failed.
     */
    private long loadRange(long first, long mine, MemorySegment staging) {
        List<PageRange> leftover = new ArrayList<>();
        long others;
        if (huge.claim(first, mine, FAULT_CHUNK_PAGES, leftover::add)) {
            long held = loader.loadWhole(first, false);
            if (held < 0) {
                return -1;
            }
            others = held - (mine >= 0 ? 1 : 0);
            if (others > 0) {
                figures.prefetched(first, first + huge.rangePages, others);
            }
            return others;
        }
        if (mine >= 0 && !loader.load(mine, 1, staging, false)) {
            return -1;
        }
        others = 0;
        for (PageRange r : leftover) {
            if (!loader.load(r.first(), r.count(), staging, false)) {
                return -1;
            }
            figures.prefetched(r.first(), r.end(), r.count());
            others += r.count();
        }
        return others;
    }

    /**
     * Claims {@code page} (true), or waits until the thread that claimed it loaded it (false), so that the service
     * time is honest; claims it after all if that thread gave it back (a whole huge range it could not claim).
     * False also once the restore ended.
     */
    private boolean claimOrAwait(long page) {
        while (!claims.claim(page)) {
            if (claims.loaded(page) || !phase.active()) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    /** Claims the policy's range around the claimed {@code page} (one region, at most a chunk): {first, end}. */
    private long[] around(long page, List<PageRange> extras) {
        long first = page;
        long end = page + 1;
        PageRange around = extras.stream().filter(r -> r.contains(page)).findFirst().orElse(null);
        if (around != null) {
            // within the page's region and huge range: the next one may yet be loaded whole
            long regionEnd = pages.regionEnd(page);
            long regionFirst = pages.first[pages.regionOf(page)];
            if (huge != null) {
                regionEnd = Math.min(regionEnd, huge.rangeEnd(page));
                regionFirst = Math.max(regionFirst, huge.rangeEnd(page) - huge.rangePages);
            }
            while (end < Math.min(around.end(), regionEnd) && end - first < FAULT_CHUNK_PAGES
                    && pages.present(end) && claims.claim(end)) {
                end++;
            }
            while (first > Math.max(around.first(), regionFirst) && end - first < FAULT_CHUNK_PAGES
                    && pages.present(first - 1) && claims.claim(first - 1)) {
                first--;
            }
        }
        return new long[] {first, end};
    }

    private int vcpuOf(int tid) {
        try {
            return request.vcpuOfThread().applyAsInt(tid);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** Loads the policy's range {@code r}: claimable snapshot pages in runs, zero pages as zero runs. */
    private void prefetch(PageRange r, MemorySegment staging) {
        long p = r.first();
        while (p < r.end() && phase.active()) {
            long whole = huge == null || claims.claimed(p) ? -1 : huge.rangeOf(p);
            // a run stops where a huge range begins: that one may yet be loaded whole
            long regionEnd = Math.min(r.end(), pages.regionEnd(p));
            if (huge != null) {
                regionEnd = Math.min(regionEnd, huge.rangeEnd(p));
            }
            if (whole >= 0) {
                if (loadRange(whole, -1, staging) < 0) {
                    return;
                }
                p = whole + huge.rangePages; // where another thread took part of it, the rest is that thread's or the sweep's
                continue;
            }
            if (!pages.present(p)) {
                if (!claims.claim(p)) {
                    p++;
                    continue;
                }
                long q = p + 1;
                while (q < regionEnd && !pages.present(q) && claims.claim(q)) {
                    q++;
                }
                figures.prefetchedZeros(copier.zero(p, q - p, false) / pages.pageSize);
                p = q;
            } else if (claims.claim(p)) {
                long q = p + 1;
                while (q < regionEnd && q - p < FAULT_CHUNK_PAGES && pages.present(q) && claims.claim(q)) {
                    q++;
                }
                if (!loader.load(p, q - p, staging, false)) {
                    return;
                }
                figures.prefetched(p, q, q - p);
                p = q;
            } else {
                p++;
            }
        }
    }
}
