package dev.thaw.restore.impl;

import dev.thaw.support.profile.ProfileCache;
import dev.thaw.api.restore.LazyRestore;
import dev.thaw.api.restore.LazyRestorer;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.SharedPageCache;
import dev.thaw.api.snapshot.SnapshotReader;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The lazy restore engine as a service; each restore is a {@link LazyRestoreImpl}. */
@Component(service = LazyRestorer.class)
@Designate(ocd = RestoreEngine.Config.class)
public final class RestoreEngine implements LazyRestorer {

    @ObjectClassDefinition(name = "Thaw restore engine", description = "How lazy restores load guest memory")
    public @interface Config {
        @AttributeDefinition(name = "Touch loaded pages", description = "The background loaders read each page they "
                + "load once from user space before it counts as loaded, so that the guest's first access to it costs "
                + "no more than a later one (about 5 µs less per page on a shadow-paging host); the full load then "
                + "ends when every page is loaded and touched")
        boolean touchLoaded() default TOUCH_LOADED;

        @AttributeDefinition(name = "Load whole huge pages", description = "The loads of a restore into anonymous "
                + "memory (background loaders, faults and what faults prefetch) read each huge page of guest memory that "
                + "the snapshot holds at least half of into a fresh huge page and move it in whole (UFFDIO_MOVE), instead of copying its 4 KiB pages in one by "
                + "one: one page table entry instead of 512, and on a shadow-paging host about 6 times faster loaded "
                + "and touched. Needs transparent huge pages for madvise (or always) and Linux 6.8")
        boolean wholeHugePages() default WHOLE_HUGE_PAGES;
    }

    /** See {@link Config#touchLoaded()}. */
    static final boolean TOUCH_LOADED = true;
    /** See {@link Config#wholeHugePages()}. */
    static final boolean WHOLE_HUGE_PAGES = true;

    private volatile LoadSettings settings;

    /** Shared by the restores of this engine: restoring one snapshot again reads its profile once. */
    private final ProfileCache profiles = new ProfileCache();

    /** Threads kept ready: a restore's fault service, policy start and two loaders. */
    static final int READY_THREADS = 4;

    /**
     * Threads for the restores' jobs, kept between restores (those beyond {@link #READY_THREADS} end
     * after a minute idle): starting a platform thread costs 0.1 to 1 ms here, and a restore starts two
     * before its vCPUs run.
     */
    private final ThreadPoolExecutor threads = new ThreadPoolExecutor(READY_THREADS, Integer.MAX_VALUE, 1, TimeUnit.MINUTES,
            new SynchronousQueue<>(), Thread.ofPlatform().daemon().name("thaw-engine-idle-", 0).factory());

    /** The defaults (tests and plain Java callers). */
    public RestoreEngine() {
        this(TOUCH_LOADED, WHOLE_HUGE_PAGES);
    }

    @Activate
    public RestoreEngine(Config config) {
        this(config.touchLoaded(), config.wholeHugePages());
    }

    /**
     * @param touchLoaded see {@link Config#touchLoaded()}
     * @param wholeHugePages see {@link Config#wholeHugePages()}
     */
    public RestoreEngine(boolean touchLoaded, boolean wholeHugePages) {
        this.settings = new LoadSettings(touchLoaded, wholeHugePages);
        threads.prestartAllCoreThreads();
    }

    /** A changed configuration applies to the next restore. */
    @Modified
    void modified(Config config) {
        settings = new LoadSettings(config.touchLoaded(), config.wholeHugePages());
    }

    @Override
    public LazyRestore start(RestoreRequest request) {
        return new LazyRestoreImpl(request, false, profiles, threads, null, settings);
    }

    @Override
    public SharedPageCache openSharedCache(SnapshotReader reader) {
        return new SharedPageCacheImpl(reader);
    }

    @Override
    public LazyRestore start(RestoreRequest request, SharedPageCache cache) {
        if (!(cache instanceof SharedPageCacheImpl shared)) {
            throw new RestoreException(request.reader().file() + ": not a shared page cache of this engine: " + cache);
        }
        return new LazyRestoreImpl(request, false, profiles, threads, shared, settings);
    }

    @Deactivate
    void deactivate() {
        threads.shutdown(); // running restores end with their VMs, which their callers stop
    }
}
