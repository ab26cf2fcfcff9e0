package dev.thaw.api.restore;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One running lazy restore. Thread-safe. {@link #close()} stops it at any point and releases everything
 * it holds (threads, userfaultfd, eventfd, buffers); the guest memory stays the caller's.
 */
@ProviderType
public interface LazyRestore extends AutoCloseable {

    /**
     * The vCPUs run: records {@code resumeLatency} (first call only), then starts the policy's session
     * and after it the background loaders (unless recording) on the engine's threads, so that neither
     * competes with the resume itself for a CPU. Until the session is open, faults load their page alone.
     */
    void resumed();

    /** The figures so far. */
    RestoreStats stats();

    /**
     * Loads every page not yet present in the background now, even under a policy without background
     * loading (a snapshot of the VM needs all of its memory). Has no effect while recording.
     */
    void loadRemaining();

    /**
     * Completes with the final figures when every snapshot-held page is present and the userfaultfd is
     * released; completes exceptionally on a failure or on close before that.
     */
    CompletableFuture<RestoreStats> completion();

    /** Whether this restore records a working-set profile that has not been saved yet. */
    boolean recording();

    /**
     * Ends recording: writes the working-set profile (to the request's {@code profileFile}) and starts background loading
     * of the rest. Returns the profile file.
     *
     * @throws IllegalStateException if the restore does not record or already saved
     * @throws RestoreException if the file cannot be written
     */
    Path saveProfile();

    /** Warnings so far (e.g. a profile recorded on another snapshot, ignored). */
    List<String> warnings();

    @Override
    void close();
}
