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
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/** The lazy restore engine as a service; each restore is a {@link LazyRestoreImpl}. */
@Component(service = LazyRestorer.class)
public final class RestoreEngine implements LazyRestorer {

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

    public RestoreEngine() {
        threads.prestartAllCoreThreads();
    }

    @Override
    public LazyRestore start(RestoreRequest request) {
        return new LazyRestoreImpl(request, false, profiles, threads, null);
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
        return new LazyRestoreImpl(request, false, profiles, threads, shared);
    }

    @Deactivate
    void deactivate() {
        threads.shutdown(); // running restores end with their VMs, which their callers stop
    }
}
