package dev.thaw.restore.impl;

import dev.thaw.support.profile.ProfileCache;
import dev.thaw.api.restore.LazyRestore;
import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreFailure;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.linux.Userfaultfd;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lazy restore: sets up its parts, moves its phase, and releases them. The parts: the
 * {@link UffdCopier} (every call on the userfaultfd), the {@link FaultService}, the
 * {@link BackgroundLoaders}, the {@link PageLoader} both use and its {@link MemoryBackend}, the {@link GuardedPolicy} with its
 * {@link PolicyView} and watchdog, the {@link Figures}, the {@link ProfileRecorder}; where it is, in one
 * {@link RestorePhase}.
 *
 * <p>No Java code ever touches guest memory: all access is UFFDIO_COPY/CONTINUE/ZEROPAGE/MOVE by the kernel, and
 * the loaders' reads of pages they installed ({@link UffdCopier#touch}) are native calls on pages known present.
 * Zero pages (holes in the snapshot) are claimed by whoever maps them: a fault on one is served with
 * UFFDIO_ZEROPAGE, and a whole huge page moved in ({@link HugeRanges}) brings its holes with it; loaders never load
 * a hole otherwise. Once every snapshot-held page is loaded the memory is unregistered, after which an untouched
 * hole is an ordinary zero-fill fault.
 */
final class LazyRestoreImpl implements LazyRestore {

    private static final Logger LOG = LoggerFactory.getLogger(LazyRestoreImpl.class);

    /** How long close() waits for each thread. */
    static final long JOIN_MILLIS = 5_000;

    private final RestoreRequest request;
    private final Executor executor;
    private final Pages pages;
    private final Claims claims;
    private final RestorePhase phase;
    private final Figures figures;
    private final ProfileRecorder profile;
    private final GuardedPolicy policy;
    private final MemoryBackend memory;
    /** The shared fleet's page cache this guest's memory maps; null for the caller's anonymous memory. */
    private final SharedPageCacheImpl cache;
    /** Run by the shared cache once it holds every page, whoever read the last. */
    private final Runnable completeWithCache = this::maybeComplete;
    private final UffdCopier copier;
    private final StopSignal stop;
    private final FaultService faults;
    private final BackgroundLoaders loaders;
    private final CompletableFuture<RestoreStats> completion = new CompletableFuture<>();
    private final Object policyStartLock = new Object();
    private Task policyStart; // guarded by policyStartLock

    /** Test hooks: successful UFFDIO_COPY/CONTINUE/ZEROPAGE per page, and loaders' touches per page, when not null. */
    final AtomicIntegerArray copies;
    final AtomicIntegerArray touches;

    /** A restore with a profile cache of its own and a new thread per job (tests), its loaders touching what they load. */
    LazyRestoreImpl(RestoreRequest request, boolean countCopies) {
        this(request, countCopies, null);
    }

    /** A restore sharing {@code cache}'s pages (anonymous memory if null), as {@link #LazyRestoreImpl(RestoreRequest, boolean)}. */
    LazyRestoreImpl(RestoreRequest request, boolean countCopies, SharedPageCacheImpl cache) {
        this(request, countCopies, cache, LoadSettings.DEFAULTS);
    }

    /** As {@link #LazyRestoreImpl(RestoreRequest, boolean, SharedPageCacheImpl)}, loading pages as {@code settings} says. */
    LazyRestoreImpl(RestoreRequest request, boolean countCopies, SharedPageCacheImpl cache, LoadSettings settings) {
        this(request, countCopies, new ProfileCache(), job -> Thread.ofPlatform().daemon().start(job), cache, settings);
    }

    /**
     * @param executor runs the restore's jobs; the engine's keeps its threads between restores
     * @param cache the shared page cache whose pages the guest memory maps; null: the caller's anonymous memory
     * @param settings how the loaders put pages in
     */
    LazyRestoreImpl(RestoreRequest request, boolean countCopies, ProfileCache profiles, Executor executor,
            SharedPageCacheImpl cache, LoadSettings settings) {
        this.request = request;
        this.executor = executor;
        this.pages = new Pages(request.reader(), request.memory());
        this.claims = new Claims(pages.total());
        this.copies = countCopies ? new AtomicIntegerArray(Math.toIntExact(pages.total())) : null;
        this.touches = countCopies ? new AtomicIntegerArray(Math.toIntExact(pages.total())) : null;
        this.phase = new RestorePhase(request.profile() == ProfileMode.RECORD);
        this.cache = cache;
        // A shared fleet's member counts as loaded what the cache holds: the guest gets those pages without a read.
        this.figures = new Figures(request.startNanos(), pages.presentTotal, cache == null ? null : cache::cachedPages);
        this.profile = new ProfileRecorder(request, pages, profiles, phase);
        this.policy = new GuardedPolicy(request.policy(), pages.total(), () -> loaders().policyDisabled());
        Path snapshot = request.reader().file();
        this.memory = cache == null ? new AnonymousBackend(pages) : new SharedCacheBackend(pages, cache, phase::active);

        HugeRanges huge = cache == null && settings.wholeHugePages() ? HugeRanges.of(pages, claims) : null;
        if (huge != null) {
            huge.advise();
        }
        // Ordering: the memory backend's mapping, then the uffd and its registration (which belongs to the
        // mapping), before any thread starts and before the caller's vCPUs.
        memory.attach();
        try {
            this.copier = UffdCopier.open(pages, claims, copies, touches,
                    memory.features() | (huge == null ? 0 : Userfaultfd.UFFD_FEATURE_MOVE), memory.registerMode());
        } catch (RuntimeException e) {
            memory.detach(true);
            throw new RestoreException(snapshot + ": cannot set up userfaultfd: " + e.getMessage(), e);
        }
        try {
            this.stop = new StopSignal();
        } catch (RuntimeException e) {
            abandon(); // nothing loaded, nothing touched: the memory is as it was given
            throw new RestoreException(snapshot + ": cannot set up userfaultfd: " + e.getMessage(), e);
        }
        PageLoader loader = new PageLoader(this, claims, copier, memory, figures, huge);
        this.faults = new FaultService(this, request, phase, pages, claims, copier, stop, policy, loader, figures, profile,
                huge);
        // A shared fleet's member reads into the fleet's cache in the background, and maps only what its guest touches.
        this.loaders = cache == null
                ? new BackgroundLoaders(this, phase, pages, claims, policy, loader, huge, figures, faults,
                        request.loaderThreads(), settings.touchLoaded())
                : new BackgroundLoaders(this, phase, pages, cache.claims(), policy,
                        new CacheFill(this, cache, figures, phase::active), null, figures, faults, request.loaderThreads(),
                        false);
        try {
            faults.start(executor);
        } catch (RuntimeException | Error e) { // no thread to be had, or the engine is stopping
            abandon();
            stop.close();
            throw new RestoreException(snapshot + ": cannot start the fault service: " + e, e);
        }
        if (cache != null) {
            cache.whenComplete(completeWithCache); // at once if the cache holds every page already
        } else if (allIn()) {
            maybeComplete(); // no page held
        }
    }

    /** Undoes a start that failed before any thread ran: the uffd goes, the memory is as the caller gave it. */
    private void abandon() {
        copier.release(false);
        memory.detach(true);
    }

    /** Whether the policy's session has opened, and answers faults (tests). */
    boolean policyOpen() {
        return policy.isOpen();
    }

    private BackgroundLoaders loaders() {
        return loaders;
    }

    /**
     * Starts a job of the running restore; a start the executor refuses (no thread to be had, the engine
     * stopping) fails the restore, with the reason, instead of leaving its work undone. Null then.
     */
    Task start(String name, Runnable job) {
        try {
            return Task.start(executor, name, job);
        } catch (RuntimeException | Error e) {
            fail(-1, "cannot start " + name + ": " + e, e);
            return null;
        }
    }

    // ---- policy and loaders ----

    /**
     * Opens the policy's session on a task of its own, once: when the vCPUs run, or when something needs
     * it before (loadRemaining). A policy's start may read the working-set profile and index it, which
     * takes milliseconds and a CPU that the resume should not share; faults before it ends load their page
     * alone. Then the task starts the loaders (once the vCPUs run) and watches the fault service.
     */
    private void startPolicy() {
        synchronized (policyStartLock) {
            if (policyStart == null && phase.active()) {
                policyStart = start("thaw-restore-policy", this::openSession);
                if (policyStart == null) {
                    policy.close(); // never opens: nobody waits for it
                }
            }
        }
    }

    private void openSession() {
        policy.open(new PolicyView(pages, claims, profile, request.policyParameters()));
        maybeStartLoaders();
        policy.watchOnFault(phase::serving, faults::rescue);
    }

    private void maybeStartLoaders() {
        if (figures.hasResumed() && policy.isOpen() && !phase.recording()
                && (policy.backgroundLoading() || request.profile() == ProfileMode.RECORD)) {
            loaders.start();
        }
    }

    @Override
    public void resumed() {
        figures.resumed();
        startPolicy(); // its task starts the loaders once the session is open
        maybeStartLoaders(); // open already (loadRemaining came first)
    }

    @Override
    public void loadRemaining() {
        if (!phase.recording()) {
            startPolicy();
            awaitSession();
            loaders.start();
        }
    }

    /** Waits until the policy's session is open, or will not open (its task started; also a test hook). */
    void awaitSession() {
        policy.awaitOpen();
    }

    @Override
    public boolean recording() {
        return phase.recording();
    }

    @Override
    public Path saveProfile() {
        try {
            return profile.save();
        } finally {
            maybeStartLoaders();
        }
    }

    // ---- completion, failure, release ----

    /**
     * Every snapshot-held page is where the guest gets it: in its memory, or for a shared fleet's member in the
     * fleet's cache, from which the kernel maps it once the member's userfaultfd is gone.
     */
    private boolean allIn() {
        return cache == null ? figures.allLoaded() : cache.complete();
    }

    void maybeComplete() {
        if (allIn() && phase.complete()) {
            figures.completed();
            stop.signal();
        }
    }

    /** Fails the restore, once, and never after it ended: tells the caller, then lets the fault service end. */
    void fail(long page, String message, Throwable cause) {
        if (!phase.startFailing()) {
            return;
        }
        figures.ended();
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
        phase.failed();
        stop.signal();
        completion.completeExceptionally(new RestoreException(failure.message(), cause));
    }

    /**
     * Releases what served the restore, once. Ordering: the policy's task and the loaders end first (they
     * use the uffd), then the copier makes pages not loaded inaccessible, unregisters and closes the uffd
     * (see {@link UffdCopier}), then the memory backend lets go (of the shared page cache), then the stop
     * signal and the policy's session close.
     */
    void release() {
        if (!phase.release()) {
            return;
        }
        Task started;
        synchronized (policyStartLock) {
            started = policyStart; // none starts from now on
        }
        if (started != null) {
            started.await(JOIN_MILLIS);
        }
        loaders.await(JOIN_MILLIS);
        if (cache != null) {
            cache.forget(completeWithCache);
        }
        copier.release(!allIn());
        memory.detach(false);
        stop.close();
        policy.close();
        RestorePhase.Stage end = phase.stage();
        if (end == RestorePhase.Stage.COMPLETE) {
            completion.complete(stats());
        } else {
            figures.ended();
            completion.completeExceptionally(new RestoreException(request.reader().file() + ": lazy restore "
                    + (end == RestorePhase.Stage.CLOSED ? "closed before every page was loaded" : "failed")));
        }
    }

    @Override
    public void close() {
        phase.close();
        stop.signal();
        faults.await(JOIN_MILLIS);
        release();
    }

    // ---- figures ----

    @Override
    public RestoreStats stats() {
        return figures.stats(policy.name(), phase.reported(), pages.total(), policy.errors(), policy.problem());
    }

    @Override
    public CompletableFuture<RestoreStats> completion() {
        return completion;
    }

    @Override
    public List<String> warnings() {
        return profile.warnings();
    }

    /** Test hook: the stop eventfd's number, while open. */
    int stopFd() {
        int fd = stop.fd().acquire();
        stop.fd().release();
        return fd;
    }

    /** Test hook: the userfaultfd's number, while open. */
    int uffdFd() {
        int fd = copier.fd().acquire();
        copier.fd().release();
        return fd;
    }
}
