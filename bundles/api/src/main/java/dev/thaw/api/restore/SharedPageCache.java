package dev.thaw.api.restore;

import java.nio.file.Path;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The pages of one open snapshot in host memory, shared by a fleet of VMs restored from it
 * ({@link LazyRestorer#start(RestoreRequest, SharedPageCache)}); docs/shared-fleets.md. Each page the
 * snapshot holds is read and verified once, into the cache, when the first fleet member needs it (the
 * members' page policies order that); every member maps it copy-on-write, so what a VM writes stays its
 * own. Zero pages take no memory in the cache.
 *
 * <p>Held by its owner (who opened it) and by every fleet member whose restore has not ended; the memory
 * goes when the last of them lets go. Thread-safe.
 */
@ProviderType
public interface SharedPageCache extends AutoCloseable {

    /** The snapshot file whose pages it holds. */
    Path file();

    /** Pages the snapshot holds: the most the cache will hold. */
    long presentPages();

    /** Pages read and verified into the cache so far. */
    long cachedPages();

    /** Host memory the cache's pages take now, in bytes (what the kernel has allocated to it). */
    long residentBytes();

    /** Fleet members whose restore uses the cache now. */
    int members();

    /**
     * What went wrong with the snapshot file under the fleet, in one line naming the file, if anything did: it was
     * truncated or modified after it was opened (every page not yet in the cache then fails for every member that
     * needs it, with this line), or it was replaced or removed at its path (nothing fails: the cache keeps reading
     * the file it opened). Empty while the file is as it was opened.
     */
    Optional<String> problem();

    /**
     * Drops the owner's hold, once: no member starts from it after; the memory goes when the last member's
     * restore ends (at once if none runs). Idempotent.
     */
    @Override
    void close();
}
