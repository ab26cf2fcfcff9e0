package dev.thaw.api.restore;

import dev.thaw.api.snapshot.SnapshotReader;
import org.osgi.annotation.versioning.ProviderType;

/** The lazy restore engine, an OSGi service. */
@ProviderType
public interface LazyRestorer {

    /**
     * Registers the request's guest memory with a userfaultfd (MISSING mode) and starts serving faults
     * and, if the policy wants it, loading in the background. Returns at once: call it before the vCPUs
     * start, then start them. The memory must be fresh anonymous memory no one has touched yet. The engine may
     * advise it {@code MADV_HUGEPAGE} and move whole huge pages into it (UFFDIO_MOVE); its mapping, protection
     * and registration stay as they are.
     *
     * @throws RestoreException if userfaultfd cannot be set up (nothing is left registered then)
     */
    LazyRestore start(RestoreRequest request);

    /**
     * A page cache over the open snapshot {@code reader}, empty, for a fleet of restores from it
     * ({@link #start(RestoreRequest, SharedPageCache)}). The reader must stay open until the cache is closed
     * and every restore from it has ended.
     *
     * @throws RestoreException naming the file, if the cache's memory cannot be set up
     */
    SharedPageCache openSharedCache(SnapshotReader reader);

    /**
     * As {@link #start(RestoreRequest)}, with the guest memory sharing {@code cache}'s pages: the engine
     * maps the cache copy-on-write over each region of the request's memory (at the same host addresses,
     * so a runtime's memory slots stay valid), then registers it. A page is read from the snapshot only if
     * no restore from the cache has read it; what the guest writes stays private to it. The request's
     * reader must be the one the cache was opened on. The caller's memory must be a mapping it unmaps
     * itself when the VM ends (which ends the guest's hold on the pages).
     *
     * @throws RestoreException if the cache is closed or of another snapshot, or the memory cannot be
     *     mapped or registered (the memory is fresh anonymous memory again then)
     */
    LazyRestore start(RestoreRequest request, SharedPageCache cache);
}
