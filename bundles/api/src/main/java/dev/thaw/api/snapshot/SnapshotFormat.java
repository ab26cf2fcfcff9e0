package dev.thaw.api.snapshot;

import java.nio.file.Path;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A snapshot file format Thaw can read. Registered as an OSGi service with {@link #NAME_PROPERTY}; the
 * format of a file is found by asking each format to {@link #probe} it.
 */
@ConsumerType
public interface SnapshotFormat {

    String NAME_PROPERTY = "thaw.snapshot.format";

    String name();

    /** One line for listings. */
    String description();

    /** Whether {@code head}, the first bytes of a file (up to 4096, fewer if the file is shorter), look like this format. */
    boolean probe(byte[] head);

    /** @throws SnapshotException naming the file and the problem */
    SnapshotReader open(Path file);

    /**
     * Opens a snapshot that starts at byte {@code offset} of {@code file} (QEMU's {@code file:PATH,offset=N});
     * a format whose files always start at byte 0 refuses any other offset.
     *
     * @throws SnapshotException naming the file and the problem
     */
    default SnapshotReader open(Path file, long offset) {
        if (offset == 0) {
            return open(file);
        }
        throw new SnapshotException(file, name() + " snapshots start at byte 0, not at an offset of " + offset);
    }
}
