package dev.thaw.api.restore;

import org.osgi.annotation.versioning.ProviderType;

/** The lazy restore engine, an OSGi service. */
@ProviderType
public interface LazyRestorer {

    /**
     * Registers the request's guest memory with a userfaultfd (MISSING mode) and starts serving faults
     * and, if the policy wants it, loading in the background. Returns at once: call it before the vCPUs
     * start, then start them. The memory must be fresh anonymous memory no one has touched yet.
     *
     * @throws RestoreException if userfaultfd cannot be set up (nothing is left registered then)
     */
    LazyRestore start(RestoreRequest request);
}
