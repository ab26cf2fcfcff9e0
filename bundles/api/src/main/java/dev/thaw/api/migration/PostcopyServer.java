package dev.thaw.api.migration;

import dev.thaw.api.snapshot.SnapshotReader;
import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** Serves QEMU mapped-ram files to incoming QEMUs as the source of their postcopy migration. */
@ProviderType
public interface PostcopyServer {

    /**
     * Checks the file, connects to the destination and starts serving; returns at once.
     *
     * @throws dev.thaw.api.snapshot.SnapshotException the file cannot be served (not a QEMU mapped-ram file,
     *     damaged): refused before connecting
     * @throws dev.thaw.api.restore.RestoreException the destination cannot be reached (named in the message)
     * @throws IllegalArgumentException an address of neither form, or a policy that is not installed
     */
    PostcopyServe serve(ServeRequest request);

    /**
     * As {@link #serve(ServeRequest)}, from {@code snapshot}, open already (a runtime that checked the file first need
     * not have it read again): the request's file and offset are the snapshot's. The serve owns {@code snapshot} from
     * the call on and closes it when it ends, also when this throws.
     */
    PostcopyServe serve(ServeRequest request, SnapshotReader snapshot);

    /** The serve {@code id}, running or ended, if this platform started it. */
    Optional<PostcopyServe> find(String id);

    /** Every serve this platform started, oldest first. */
    List<PostcopyServe> serves();
}
