package dev.thaw.api.policy;

import java.util.Map;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** What a policy may know of the restore it plans. */
@ProviderType
public interface RestoreView {

    /** Pages of guest memory, all regions. */
    long pageCount();

    int pageSize();

    /** Whether the snapshot holds {@code page} (else it is a zero page, cheap to fill). */
    boolean inSnapshot(long page);

    /** Whether {@code page} is loaded or being loaded. */
    boolean isLoaded(long page);

    /** The first page at or after {@code from} that is neither loaded nor being loaded; {@link #pageCount()} if none. */
    long nextUnloaded(long from);

    /** The working-set profile recorded on this snapshot, if one is found and matches it. */
    Optional<WorkingSet> workingSet();

    /** The policy's parameters from configuration (names and types are the policy's own). */
    Map<String, Object> parameters();
}
