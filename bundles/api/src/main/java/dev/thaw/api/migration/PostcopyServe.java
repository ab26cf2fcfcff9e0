package dev.thaw.api.migration;

import dev.thaw.api.restore.RestoreStats;
import java.nio.file.Path;
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

    /** Stops serving if it still does (a destination not complete is left to its owner) and releases the file. */
    @Override
    void close();
}
