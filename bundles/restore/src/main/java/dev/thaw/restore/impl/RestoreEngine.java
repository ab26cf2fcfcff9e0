package dev.thaw.restore.impl;

import dev.thaw.api.restore.LazyRestore;
import dev.thaw.api.restore.LazyRestorer;
import dev.thaw.api.restore.RestoreRequest;
import org.osgi.service.component.annotations.Component;

/** The lazy restore engine as a service; each restore is a {@link LazyRestoreImpl}. */
@Component(service = LazyRestorer.class)
public final class RestoreEngine implements LazyRestorer {

    /** Shared by the restores of this engine: restoring one snapshot again reads its profile once. */
    private final ProfileCache profiles = new ProfileCache();

    @Override
    public LazyRestore start(RestoreRequest request) {
        return new LazyRestoreImpl(request, false, profiles);
    }
}
