package dev.thaw.restore.impl;

import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.api.restore.LazyRestore;
import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreFailure;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.restore.RestoreStats.Phase;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Userfaultfd;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lazy restore: a fault service thread, background loader threads, the claim bitmap and the figures.
 *
 * <p>Threads: the fault service owns the userfaultfd's read side; it polls the uffd and an eventfd (the
 * stop signal), serves each fault (the page, plus the policy's range around it in one UFFDIO_COPY, then
 * wakes; the policy's other ranges after the wake), and releases everything at completion. Loaders claim
 * runs of snapshot-held pages (policy order, then address order), read them into their thread's staging
 * buffer ({@link Staging}) and copy them in, and pause while the fault service has faults in hand. No Java thread ever
 * touches guest memory: all access is UFFDIO_COPY/ZEROPAGE by the kernel.
 *
 * <p>Zero pages (holes in the snapshot) are never claimed or copied by loaders: a fault on one is served
 * with UFFDIO_ZEROPAGE (idempotent: EEXIST means already there), and once every snapshot-held page is
 * loaded the memory is unregistered, after which an untouched hole is an ordinary zero-fill fault.
 */
final class LazyRestoreImpl implements LazyRestore {

    private static final Logger LOG = LoggerFactory.getLogger(LazyRestoreImpl.class);

    /**
     * Pages per background copy: 512 KiB. In {@code ./thaw bench restore} runs, 256 KiB loaded 10 to 30%
     * slower (more calls per byte) and 1 MiB made a fault on a page being loaded wait for up to 5 ms.
     */
    static final int LOADER_CHUNK_PAGES = 128;
    /** Pages per copy on the fault path at most (the policy's range around the faulting page). */
    static final int FAULT_CHUNK_PAGES = 512;
    /** Fault messages taken per read(2): one per vCPU that can be waiting, with room to spare. */
    static final int MESSAGES_PER_READ = 64;
    static final long WATCH_PERIOD_NANOS = 10_000_000;
    /** How long close() waits for each thread. */
    static final long JOIN_MILLIS = 5_000;
    /** Consecutive next() batches with nothing left to load before the loaders stop asking the policy. */
    static final int MAX_IDLE_BATCHES = 1_000;

    enum Cause { FAULT, PREFETCH, BACKGROUND }

    private final RestoreRequest request;
    private final ProfileCache profiles;
    private final Pages pages;
    private final Claims claims;
    /** The policy; its session opens on a task of its own once the vCPUs run (see {@link #resumed()}). */
    private final GuardedPolicy policy;
    private final Object policyStartLock = new Object();
    private Task policyStart; // guarded by policyStartLock
    private volatile boolean resumedYet;
    /** The snapshot's identity, computed when first needed (reading the file is not for the resume path). */
    private volatile String snapshotId;
    /** The working-set profile, read when the policy first asks (most never do); null until then. */
    private volatile Optional<WorkingSet> workingSet;
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Userfaultfd uffd;
    private final StopSignal stop;

    private final AtomicReference<Phase> phase;
    private final CompletableFuture<RestoreStats> completion = new CompletableFuture<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicBoolean released = new AtomicBoolean();
    private final AtomicBoolean failed = new AtomicBoolean();
    /** Set by the first failure, before the caller is told; {@link #failed} once it was. */
    private final AtomicBoolean failing = new AtomicBoolean();
    private volatile boolean recording;
    /** Faults read and not yet served: loaders wait while it is above zero. */
    private final AtomicInteger faultsInHand = new AtomicInteger();

    private final AtomicLong loadedPresent = new AtomicLong();
    private final AtomicLong sweepCursor = new AtomicLong();
    private final ConcurrentLinkedDeque<PageRange> policyQueue = new ConcurrentLinkedDeque<>();
    private volatile boolean policyExhausted;

    private final LongAdder faults = new LongAdder();
    private final LongAdder pagesFault = new LongAdder();
    private final LongAdder pagesPrefetch = new LongAdder();
    private final LongAdder pagesBackground = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final Map<Integer, LongAdder> blocktime = new ConcurrentHashMap<>();
    private final LatencyLog latencies = new LatencyLog();
    private final long startNanos;
    private volatile long resumeLatency = -1;
    private volatile long fullLoadTime = -1;
    private volatile long firstLoadNanos = -1;
    private volatile long endNanos = -1;
    /** Prefetched runs not yet confirmed used, keyed by first page: {end, loaded pages}. Guarded by this. */
    private final TreeMap<Long, long[]> openPrefetches = new TreeMap<>();
    private final AtomicLong wastedEstimate = new AtomicLong();

    /** First-touch log while recording; guarded by itself. */
    private long[] touches = new long[1024];
    private int touchCount;
    private final java.util.BitSet touched = new java.util.BitSet();

    /** Test hook: successful UFFDIO_COPY/ZEROPAGE per page, when not null. */
    final AtomicIntegerArray copies;

    private final Executor executor;
    private volatile Task faultService;
    /** Counts fault services: one that a hung policy held up, when it returns, sees it was replaced and ends. */
    private final AtomicInteger faultServiceGeneration = new AtomicInteger();
    /** The batch the fault service is serving and the index of the fault in it, for the watchdog. */
    private volatile List<Userfaultfd.Message> batchInHand = List.of();
    private volatile int servingIndex;
    private final List<Task> loaders = new CopyOnWriteArrayList<>();
    private final AtomicBoolean loadersStarted = new AtomicBoolean();

    /** A restore with a profile cache of its own and a new thread per job (tests). */
    LazyRestoreImpl(RestoreRequest request, boolean countCopies) {
        this(request, countCopies, new ProfileCache(), job -> Thread.ofPlatform().daemon().start(job));
    }

    /** @param executor runs the restore's jobs; the engine's keeps its threads between restores */
    LazyRestoreImpl(RestoreRequest request, boolean countCopies, ProfileCache profiles, Executor executor) {
        this.request = request;
        this.profiles = profiles;
        this.executor = executor;
        this.startNanos = request.startNanos();
        this.pages = new Pages(request.reader(), request.memory());
        this.claims = new Claims(pages.total());
        this.copies = countCopies ? new AtomicIntegerArray(Math.toIntExact(pages.total())) : null;
        this.policy = new GuardedPolicy(request.policy(), pages.total(), () -> policyExhausted = true);
        Path snapshot = request.reader().file();
        this.recording = request.profile() == ProfileMode.RECORD;
        this.phase = new AtomicReference<>(recording ? Phase.RECORDING : Phase.LOADING);

        // Ordering: uffd and its registration before any thread starts and before the caller's vCPUs.
        Userfaultfd fd = Userfaultfd.open(Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        StopSignal signal = null;
        int registered = 0;
        try {
            fd.api(Userfaultfd.UFFD_FEATURE_THREAD_ID);
            signal = new StopSignal();
            for (; registered < pages.regions(); registered++) {
                fd.register(pages.host[registered], pages.size[registered], Userfaultfd.UFFDIO_REGISTER_MODE_MISSING);
            }
        } catch (RuntimeException e) {
            rollBack(fd, signal, registered);
            throw new RestoreException(snapshot + ": cannot set up userfaultfd: " + e.getMessage(), e);
        }
        this.uffd = fd;
        this.stop = signal;
        try {
            this.faultService = Task.start(executor, "thaw-restore-faults", this::serveFaults);
        } catch (RuntimeException | Error e) { // no thread to be had, or the engine is stopping
            rollBack(fd, signal, registered);
            throw new RestoreException(snapshot + ": cannot start the fault service: " + e, e);
        }
        if (pages.presentTotal == 0) {
            maybeComplete();
        }
    }

    /** Undoes the constructor's set-up of the first {@code registered} regions, the uffd and the stop signal. */
    private void rollBack(Userfaultfd fd, StopSignal signal, int registered) {
        for (int r = 0; r < registered; r++) {
            int region = r;
            quietly(() -> fd.unregister(pages.host[region], pages.size[region]));
        }
        fd.close();
        if (signal != null) {
            signal.close();
        }
    }

    /**
     * Starts a job of the running restore; a start the executor refuses (no thread to be had, the engine
     * stopping) fails the restore, with the reason, instead of leaving its work undone. Null then.
     */
    private Task start(String name, Runnable job) {
        try {
            return Task.start(executor, name, job);
        } catch (RuntimeException | Error e) {
            fail(-1, "cannot start " + name + ": " + e, e);
            return null;
        }
    }

    // ---- policy ----

    /**
     * Opens the policy's session on a task of its own, once: when the vCPUs run, or when something needs
     * it before (loadRemaining). A policy's start may read the working-set profile and index it, which
     * takes milliseconds and a CPU that the resume should not share; faults before it ends load their page
     * alone. Then the task starts the loaders (once the vCPUs run) and watches the fault service.
     */
    private void startPolicy() {
        synchronized (policyStartLock) {
            if (policyStart == null && !stopping.get()) {
                policyStart = start("thaw-restore-policy", this::openSession);
                if (policyStart == null) {
                    policy.close(); // never opens: nobody waits for it
                }
            }
        }
    }

    private void openSession() {
        policy.open(new View());
        maybeStartLoaders();
        watchFaultService();
    }

    /**
     * Runs on after the session opened, until the restore ends: a fault service stuck in the policy's
     * onFault (a hung policy) would leave its vCPUs waiting forever. After
     * {@link GuardedPolicy#HUNG_CALL_NANOS} the policy is disabled, the faults it held are served here,
     * and a new fault service takes over.
     */
    private void watchFaultService() {
        while (!stopping.get() && !released.get()) {
            LockSupport.parkNanos(WATCH_PERIOD_NANOS);
            long since = policy.onFaultSince();
            if (since != 0 && System.nanoTime() - since > GuardedPolicy.HUNG_CALL_NANOS && !stopping.get()) {
                rescueFaultService();
            }
        }
    }

    private void rescueFaultService() {
        List<Userfaultfd.Message> held = batchInHand;
        int from = servingIndex;
        faultServiceGeneration.incrementAndGet(); // the stuck service ends when (if) the policy returns
        policy.giveUpOnFault();
        policy.disable("onFault did not return within " + GuardedPolicy.HUNG_CALL_NANOS / 1_000_000 + " ms");
        faultsInHand.decrementAndGet(); // the stuck service's count
        MemorySegment staging = Staging.of((long) FAULT_CHUNK_PAGES * pages.pageSize, pages.pageSize);
        long t0 = System.nanoTime();
        for (int i = from; i < held.size(); i++) {
            if (held.get(i).isPagefault() && !failed.get()) {
                serve(held.get(i), t0, staging, -1);
            }
        }
        Task next = start("thaw-restore-faults", this::serveFaults);
        if (next == null) {
            release(); // no fault service will: the waiting vCPUs get EFAULT now
        } else {
            faultService = next;
        }
    }

    private final class View implements RestoreView {
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

        /** Zero pages count as loaded: they never need loading (see the class comment). */
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
            return LazyRestoreImpl.this.workingSet();
        }

        @Override
        public Map<String, Object> parameters() {
            return request.policyParameters();
        }
    }

    // ---- fault service ----

    private void serveFaults() {
        int generation = faultServiceGeneration.get();
        try {
            MemorySegment staging = Staging.of((long) FAULT_CHUNK_PAGES * pages.pageSize, pages.pageSize);
            int[] events = {Libc.POLLIN, Libc.POLLIN};
            while (!stopping.get() && !failed.get() && generation == faultServiceGeneration.get()) {
                int stopFd = stop.fd().tryAcquire();
                if (stopFd < 0) {
                    break; // released: nothing to poll
                }
                int[] revents;
                try {
                    revents = Libc.poll(new int[] {uffd.fd(), stopFd}, events, -1);
                } finally {
                    stop.fd().release();
                }
                if (revents[1] != 0 || stopping.get()) {
                    break;
                }
                if ((revents[0] & Libc.POLLIN) == 0) {
                    continue;
                }
                faultsInHand.incrementAndGet();
                try {
                    // One read(2) takes every queued fault; the next poll says when there are more.
                    List<Userfaultfd.Message> batch = uffd.read(MESSAGES_PER_READ);
                    batchInHand = batch;
                    long t0 = System.nanoTime(); // a fault's service time includes waiting behind others of its batch
                    for (int i = 0; i < batch.size() && generation == faultServiceGeneration.get(); i++) {
                        servingIndex = i;
                        if (batch.get(i).isPagefault() && !failed.get()) {
                            serve(batch.get(i), t0, staging, generation);
                        }
                    }
                } finally {
                    if (generation == faultServiceGeneration.get()) {
                        faultsInHand.decrementAndGet();
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("restore fault service failed", e);
            fail(-1, "the fault service failed: " + e, e);
        }
        // After a failure too: a vCPU waiting on a page that will never come gets EFAULT now (the
        // pages are made inaccessible before unregistering), instead of waiting until close().
        if (generation == faultServiceGeneration.get() && (failed.get() || phase.get() == Phase.COMPLETE)) {
            release();
        }
    }

    /** @param generation the fault service's, or -1 for the watchdog's rescue (which no policy can hold up) */
    private void serve(Userfaultfd.Message message, long t0, MemorySegment staging, int generation) {
        long page = pages.pageAt(message.address());
        if (page < 0) {
            LOG.warn("fault at 0x{} outside guest memory", Long.toHexString(message.address()));
            return;
        }
        int vcpu = vcpuOf(message.ptid());
        boolean record = recording;
        List<PageRange> extras = record ? List.of() : extras(page, vcpu);
        if (generation >= 0 && generation != faultServiceGeneration.get()) {
            return; // this service was replaced while the policy held it; the watchdog served this fault
        }
        noteFault(page);
        if (!pages.present(page)) {
            long done = zeroRun(page, 1, true);
            if (done > 0) {
                pagesFault.increment();
                log(record, page);
            }
        } else if (claims.claim(page)) {
            log(record, page);
            long first = page;
            long end = page + 1;
            PageRange around = extras.stream().filter(r -> r.contains(page)).findFirst().orElse(null);
            if (around != null) {
                long regionEnd = pages.regionEnd(page);
                long regionFirst = pages.first[pages.regionOf(page)];
                while (end < Math.min(around.end(), regionEnd) && end - first < FAULT_CHUNK_PAGES
                        && pages.present(end) && claims.claim(end)) {
                    end++;
                }
                while (first > Math.max(around.first(), regionFirst) && end - first < FAULT_CHUNK_PAGES
                        && pages.present(first - 1) && claims.claim(first - 1)) {
                    first--;
                }
            }
            if (!load(first, end - first, staging)) {
                return;
            }
            pagesFault.increment();
            long prefetched = end - first - 1;
            if (prefetched > 0) {
                pagesPrefetch.add(prefetched);
                notePrefetch(first, end, prefetched);
            }
        } else {
            // Another thread claimed it and is loading it: its UFFDIO_COPY wakes us; wait so the service
            // time is honest, then wake in case the copy came before this thread queued.
            while (!claims.loaded(page)) {
                if (failed.get() || stopping.get()) {
                    return;
                }
                Thread.onSpinWait();
            }
            quietly(() -> uffd.wake(pages.address(page), pages.pageSize));
        }
        long t = System.nanoTime() - t0;
        faults.increment();
        latencies.add(t);
        blocktime.computeIfAbsent(vcpu, k -> new LongAdder()).add(t);
        for (PageRange r : extras) {
            if (!r.contains(page) && !failed.get()) {
                prefetch(r, staging);
            }
        }
    }

    private int vcpuOf(int tid) {
        try {
            return request.vcpuOfThread().applyAsInt(tid);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private List<PageRange> extras(long page, int vcpu) {
        return policy.onFault(page, vcpu);
    }

    /** Loads the policy's range {@code r}: claimable snapshot pages in runs, zero pages as zero runs. */
    private void prefetch(PageRange r, MemorySegment staging) {
        long p = r.first();
        while (p < r.end() && !failed.get()) {
            long regionEnd = Math.min(r.end(), pages.regionEnd(p));
            if (!pages.present(p)) {
                long q = p + 1;
                while (q < regionEnd && !pages.present(q)) {
                    q++;
                }
                long done = zeroRun(p, q - p, false) / pages.pageSize;
                pagesPrefetch.add(done);
                p = q;
            } else if (claims.claim(p)) {
                long q = p + 1;
                while (q < regionEnd && q - p < FAULT_CHUNK_PAGES && pages.present(q) && claims.claim(q)) {
                    q++;
                }
                if (!load(p, q - p, staging)) {
                    return;
                }
                pagesPrefetch.add(q - p);
                notePrefetch(p, q, q - p);
                p = q;
            } else {
                p++;
            }
        }
    }

    // ---- wasted-page estimate (see docs/working-set-profile.md) ----

    private synchronized void notePrefetch(long first, long end, long count) {
        openPrefetches.put(first, new long[] {end, count});
        wastedEstimate.addAndGet(count);
    }

    /** A fault next to or inside an open prefetched run means the guest walked through it: it was used. */
    private synchronized void noteFault(long page) {
        var below = openPrefetches.floorEntry(page);
        if (below != null) {
            long[] v = below.getValue();
            long span = v[0] - below.getKey();
            if (page <= v[0] + span) {
                openPrefetches.remove(below.getKey());
                wastedEstimate.addAndGet(-v[1]);
            }
        }
        var above = openPrefetches.ceilingEntry(page + 1);
        if (above != null) {
            long[] v = above.getValue();
            long span = v[0] - above.getKey();
            if (above.getKey() - page <= span) {
                openPrefetches.remove(above.getKey());
                wastedEstimate.addAndGet(-v[1]);
            }
        }
    }

    // ---- recording ----

    private void log(boolean record, long page) {
        if (!record) {
            return;
        }
        synchronized (touched) {
            if (!recording || touched.get((int) page)) {
                return;
            }
            touched.set((int) page);
            if (touchCount == touches.length) {
                touches = Arrays.copyOf(touches, touchCount * 2);
            }
            touches[touchCount++] = page;
        }
    }

    @Override
    public boolean recording() {
        return recording;
    }

    @Override
    public Path saveProfile() {
        List<PageRange> runs;
        long count;
        synchronized (touched) {
            if (!recording) {
                throw new IllegalStateException("this restore does not record a working-set profile (any more)");
            }
            recording = false;
            runs = Profiles.runs(touches, touchCount);
            count = touchCount;
        }
        Path snapshot = request.reader().file();
        Path file = request.profileFile();
        try {
            Profiles.write(file, snapshotId(), snapshot, pages.pageSize, pages.total(), count, runs);
        } finally {
            phase.compareAndSet(Phase.RECORDING, Phase.LOADING);
            maybeStartLoaders();
        }
        return file;
    }

    private Optional<WorkingSet> workingSet() {
        Optional<WorkingSet> ws = workingSet;
        if (ws == null) {
            synchronized (warnings) {
                ws = workingSet;
                if (ws == null) {
                    Path profile = request.profileFile();
                    List<String> found = new ArrayList<>();
                    ws = request.profile() == ProfileMode.USE && java.nio.file.Files.exists(profile)
                            ? profiles.read(profile, snapshotId(), pages.pageSize, pages.total(), found)
                            : Optional.empty();
                    found.forEach(LOG::warn);
                    warnings.addAll(found);
                    workingSet = ws;
                }
            }
        }
        return ws;
    }

    private String snapshotId() {
        String id = snapshotId;
        if (id == null) {
            id = Profiles.snapshotId(request.reader().file());
            snapshotId = id;
        }
        return id;
    }

    // ---- background loading ----

    private void maybeStartLoaders() {
        if (resumedYet && policy.isOpen() && !recording && !stopping.get()) {
            startLoaders();
        }
    }

    private void startLoaders() {
        if (policy.backgroundLoading() || request.profile() == ProfileMode.RECORD) {
            startLoaderThreads();
        }
    }

    @Override
    public void loadRemaining() {
        if (!recording) {
            startPolicy();
            awaitSession();
            startLoaderThreads();
        }
    }

    /** Waits until the policy's session is open (its task started; also a test hook). */
    void awaitSession() {
        policy.awaitOpen();
    }

    private void startLoaderThreads() {
        if (stopping.get() || !loadersStarted.compareAndSet(false, true)) {
            return;
        }
        // At least one loader, even where the request asked for none: the caller needs every page.
        for (int i = 0; i < Math.max(1, request.loaderThreads()) && !stopping.get(); i++) {
            Task loader = start("thaw-restore-loader-" + i, this::backgroundLoad);
            if (loader == null) {
                return;
            }
            loaders.add(loader);
        }
    }

    private void backgroundLoad() {
        try {
            MemorySegment staging = Staging.of((long) LOADER_CHUNK_PAGES * pages.pageSize, pages.pageSize);
            long[] run = new long[2];
            while (!stopping.get() && !failed.get()) {
                yieldToFaults();
                if (!nextRun(run)) {
                    return;
                }
                if (!load(run[0], run[1], staging)) {
                    return;
                }
                pagesBackground.add(run[1]);
            }
        } catch (RuntimeException | Error e) {
            LOG.error("restore loader failed", e);
            fail(-1, "a background loader failed: " + e, e);
        }
    }

    private void yieldToFaults() {
        while (faultsInHand.get() > 0 && !stopping.get()) {
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Claims the next run to load in the background into {@code run} ({first, count}); false when none. */
    private boolean nextRun(long[] run) {
        int idle = 0;
        while (!policyExhausted && !stopping.get()) {
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
        while (!stopping.get()) {
            long from = sweepCursor.get();
            if (from >= total) {
                return false;
            }
            if (claimIn(from, total, run)) {
                sweepCursor.accumulateAndGet(run[0] + run[1], Math::max);
                return true;
            }
            sweepCursor.accumulateAndGet(total, Math::max);
        }
        return false;
    }

    /** Claims the first run of claimable snapshot pages in {@code [from, end)}, within one region. */
    private boolean claimIn(long from, long end, long[] run) {
        for (long p = from; p < end; p++) {
            if (claims.claimed(p) || !pages.present(p) || !claims.claim(p)) {
                continue;
            }
            long limit = Math.min(end, pages.regionEnd(p));
            long q = p + 1;
            while (q < limit && q - p < LOADER_CHUNK_PAGES && pages.present(q) && claims.claim(q)) {
                q++;
            }
            run[0] = p;
            run[1] = q - p;
            return true;
        }
        return false;
    }

    // ---- loading ----

    /**
     * Reads claimed snapshot pages {@code [first, first+count)} (one region) and copies them in, waking
     * waiters. False if the restore failed (the failure is reported).
     */
    private boolean load(long first, long count, MemorySegment staging) {
        int region = pages.regionOf(first);
        long regionPage = first - pages.first[region];
        long bytes = count << pages.shift;
        MemorySegment buffer = staging.asSlice(0, bytes);
        if (firstLoadNanos < 0) {
            firstLoadNanos = System.nanoTime();
        }
        try {
            request.reader().readPages(region, regionPage, count, buffer);
        } catch (RuntimeException e) {
            long bad = first + badPage(e, regionPage, count);
            fail(bad, "page " + bad + " (region " + region + " page " + (bad - pages.first[region]) + "): "
                    + e.getMessage(), e);
            return false;
        }
        bytesRead.add(bytes);
        long dst = pages.address(first);
        long done = 0;
        while (done < bytes) {
            try {
                done += uffd.copy(dst + done, buffer.address() + done, bytes - done, 0);
            } catch (Userfaultfd.RangeException e) {
                done += e.completed();
                if (e.alreadyExists()) {
                    // Present already (cannot happen for a claimed page unless someone else mapped it): wake, skip.
                    long at = dst + done;
                    quietly(() -> uffd.wake(at, pages.pageSize));
                    done += pages.pageSize;
                } else if (e.wouldBlock()) {
                    Thread.onSpinWait();
                } else {
                    long bad = first + (done >>> pages.shift);
                    fail(bad, "page " + bad + ": " + e.getMessage(), e);
                    return false;
                }
            }
        }
        if (copies != null) {
            for (long p = first; p < first + count; p++) {
                copies.incrementAndGet((int) p);
            }
        }
        claims.markLoaded(first, count);
        if (loadedPresent.addAndGet(count) == pages.presentTotal) {
            maybeComplete();
        }
        return true;
    }

    /** Which page of a failed read the reader named, if its message says {@code page N}; else the first. */
    private static long badPage(RuntimeException e, long regionPage, long count) {
        String m = String.valueOf(e.getMessage());
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("page (\\d+)").matcher(m);
        while (matcher.find()) {
            long p = Long.parseLong(matcher.group(1));
            if (p >= regionPage && p < regionPage + count) {
                return p - regionPage;
            }
        }
        return 0;
    }

    /** Maps zero pages over {@code [first, first+count)}, skipping present ones; returns bytes mapped. */
    private long zeroRun(long first, long count, boolean wakeIfPresent) {
        long start = pages.address(first);
        long bytes = count << pages.shift;
        long done = 0;
        long mapped = 0;
        while (done < bytes) {
            try {
                long n = uffd.zeropage(start + done, bytes - done, 0);
                done += n;
                mapped += n;
            } catch (Userfaultfd.RangeException e) {
                done += e.completed();
                mapped += e.completed();
                if (e.alreadyExists()) {
                    long at = start + done;
                    if (wakeIfPresent) {
                        quietly(() -> uffd.wake(at, pages.pageSize));
                    }
                    done += pages.pageSize;
                } else if (!e.wouldBlock()) {
                    throw e;
                }
            }
        }
        if (copies != null && mapped == bytes) {
            for (long p = first; p < first + count; p++) {
                copies.incrementAndGet((int) p);
            }
        }
        claims.markLoaded(first, count); // present now, by this call or an earlier one: stays accessible at release
        return mapped;
    }

    // ---- completion, failure, release ----

    private void maybeComplete() {
        if (loadedPresent.get() != pages.presentTotal) {
            return;
        }
        Phase now = phase.get();
        if ((now == Phase.LOADING || now == Phase.RECORDING) && phase.compareAndSet(now, Phase.COMPLETE)) {
            endNanos = System.nanoTime();
            fullLoadTime = endNanos - startNanos;
            signalStop();
        }
    }

    private void fail(long page, String message, Throwable cause) {
        if (!failing.compareAndSet(false, true)) {
            return;
        }
        phase.set(Phase.FAILED);
        endNanos = System.nanoTime();
        int region = page < 0 ? -1 : pages.regionOf(page);
        long regionPage = page < 0 ? -1 : page - pages.first[region];
        RestoreFailure failure = new RestoreFailure(page, region, regionPage,
                request.reader().file() + ": lazy restore stopped: " + message, cause);
        LOG.error(failure.message());
        // Ordering: the caller hears of the failure before the fault service lets waiting vCPUs go
        // (with EFAULT), so the failure it records is this one, not a vCPU's reaction to it.
        try {
            request.onFailure().accept(failure);
        } catch (RuntimeException e) {
            LOG.error("restore failure callback failed", e);
        }
        failed.set(true);
        signalStop();
        completion.completeExceptionally(new RestoreException(failure.message(), cause));
    }

    private void signalStop() {
        stop.signal();
    }

    /**
     * Ordering: loaders end first (they use the uffd), then pages not loaded are made inaccessible (after
     * a failure or a close while loading alike), then unregister, then close: unregistering first would
     * let a thread still touching guest memory, or one waiting on a fault, read zero-fill where the
     * snapshot has data.
     */
    private void release() {
        if (!released.compareAndSet(false, true)) {
            return;
        }
        stopping.set(true);
        Task started;
        synchronized (policyStartLock) {
            started = policyStart; // none starts from now on
        }
        if (started != null) {
            started.await(JOIN_MILLIS);
        }
        for (Task t : loaders) {
            t.await(JOIN_MILLIS);
        }
        if (loadedPresent.get() != pages.presentTotal) {
            protectUnloaded();
        }
        for (int r = 0; r < pages.regions(); r++) {
            int region = r;
            quietly(() -> uffd.unregister(pages.host[region], pages.size[region]));
        }
        uffd.close();
        stop.close();
        policy.close();
        Phase end = phase.get();
        if (end == Phase.COMPLETE) {
            completion.complete(stats());
        } else {
            if (end != Phase.FAILED) {
                phase.set(Phase.CLOSED);
                endNanos = System.nanoTime();
            }
            completion.completeExceptionally(new RestoreException(request.reader().file()
                    + ": lazy restore " + (end == Phase.FAILED ? "failed" : "closed before every page was loaded")));
        }
    }

    /**
     * Makes every snapshot-held page not loaded inaccessible (PROT_NONE): in runs that span the untouched
     * holes between such pages (fewer mappings to split), the whole region if a run cannot be protected
     * (e.g. too many mappings). Pages loaded, holes mapped on a fault included, stay as they are.
     */
    private void protectUnloaded() {
        for (int r = 0; r < pages.regions(); r++) {
            try {
                protectUnloaded(pages.first[r], pages.first[r + 1]);
            } catch (ErrnoException e) {
                LOG.warn("{}: protecting region {} whole: {}", request.reader().file(), r, e.getMessage());
                int region = r;
                quietly(() -> Libc.mprotect(pages.host[region], pages.size[region], Libc.PROT_NONE));
            }
        }
    }

    private void protectUnloaded(long from, long to) {
        for (long p = from; p < to; ) {
            if (!pages.present(p) || claims.loaded(p)) {
                p++;
                continue;
            }
            long end = p + 1; // one past the last unloaded snapshot page of the run
            for (long q = end; q < to && !claims.loaded(q); q++) {
                if (pages.present(q)) {
                    end = q + 1;
                }
            }
            Libc.mprotect(pages.address(p), (end - p) << pages.shift, Libc.PROT_NONE);
            p = end;
        }
    }

    @Override
    public void close() {
        stopping.set(true);
        signalStop();
        faultService.await(JOIN_MILLIS);
        release();
    }

    private static void quietly(Runnable call) {
        try {
            call.run();
        } catch (ErrnoException e) {
            LOG.debug("ignored: {}", e.getMessage());
        }
    }

    // ---- figures ----

    @Override
    public void resumed() {
        if (resumeLatency < 0) {
            resumeLatency = System.nanoTime() - startNanos;
        }
        resumedYet = true;
        startPolicy(); // its task starts the loaders once the session is open
        maybeStartLoaders(); // open already (loadRemaining came first)
    }

    @Override
    public RestoreStats stats() {
        long[] p = latencies.percentiles();
        Map<Integer, Long> block = new TreeMap<>();
        blocktime.forEach((k, v) -> block.put(k, v.sum()));
        long read = bytesRead.sum();
        long from = firstLoadNanos;
        long to = endNanos > 0 ? endNanos : System.nanoTime();
        double bandwidth = from < 0 || to <= from ? 0 : read * 1e9 / (to - from);
        return new RestoreStats(policy.name(), phase.get(), pages.total(), pages.presentTotal, loadedPresent.get(),
                resumeLatency, fullLoadTime, faults.sum(), p[0], p[1], block, pagesFault.sum(), pagesPrefetch.sum(),
                pagesBackground.sum(), wastedEstimate.get(), read, bandwidth, policy.errors(), policy.problem());
    }

    @Override
    public CompletableFuture<RestoreStats> completion() {
        return completion;
    }

    @Override
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** Test hook: the stop eventfd's number, while open. */
    int stopFd() {
        int fd = stop.fd().acquire();
        stop.fd().release();
        return fd;
    }

    /** Test hook: the userfaultfd's fd. */
    int uffdFd() {
        return uffd.fd();
    }
}
