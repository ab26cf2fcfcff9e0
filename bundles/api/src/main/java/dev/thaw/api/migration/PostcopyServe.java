package dev.thaw.api.migration;

import dev.thaw.api.restore.RestoreStats;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One file being served to one incoming QEMU. Its figures stay readable after it ended and after
 * {@link #close()}.
 */
@ProviderType
public interface PostcopyServe extends AutoCloseable {

    /** Unique among the serves of this platform ({@code serve1}, {@code serve2}, ...); {@code thaw:stats} takes it. */
    String id();

    Path file();

    /** The address served, as the request named it. */
    String destination();

    /**
     * The figures under the restore's names: a page request is a fault, the resume latency runs to the
     * destination's word that the device state is loaded (its vCPUs start then, unless it has {@code -S}), the
     * full load time to its word that every page is placed.
     */
    RestoreStats stats();

    /** Bytes written to the destination so far. */
    long bytesSent();

    /**
     * Completes with the final figures when the destination says every page is placed; exceptionally with a
     * {@code RestoreException} (one line naming the file, the destination and the problem) when it fails or is
     * closed first.
     */
    CompletableFuture<RestoreStats> completion();

    /**
     * Sends every page not yet sent now, even under a policy without background loading (for example once a
     * profile is saved, or before the destination's memory is saved).
     */
    void loadRemaining();

    /**
     * Ends the hold of a serve that holds back its background ({@link ServeRequest#holdBackground()}): from now on
     * the policy's background order goes, as in any serve (a policy without background loading still sends only
     * what is asked for). Nothing for a serve that holds nothing back.
     */
    void startBackground();

    /**
     * Ends recording: writes the working-set profile of the page requests so far to the request's
     * {@link ServeRequest#recordProfileTo()} and records no more; returns that file.
     *
     * @throws IllegalStateException if the serve does not record a profile, saved it already, or ended without
     *     completing
     * @throws dev.thaw.api.restore.RestoreException if the file cannot be written (one line naming it)
     */
    Path saveProfile();

    /** The working-set profile file this serve wrote, once it did ({@link #saveProfile()}, or on completion). */
    Optional<Path> savedProfile();

    /**
     * Warnings so far, each one line naming its file: a profile ignored (recorded on another snapshot, damaged),
     * a recorded profile that could not be written when the destination completed.
     */
    List<String> warnings();

    /** Stops serving if it still does (a destination not complete is left to its owner) and releases the file. */
    @Override
    void close();
}
