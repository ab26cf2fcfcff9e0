package dev.thaw.api.snapshot;

import java.nio.file.Path;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** The installed snapshot formats, and opening a file with the one that recognises it. */
@ProviderType
public interface SnapshotFormats {

    List<SnapshotFormat> formats();

    /** @throws SnapshotException naming the file and why no format (or the one that recognised it) could open it */
    SnapshotReader open(Path file);

    /**
     * Opens the snapshot that starts at byte {@code offset} of {@code file}, with the format that recognises
     * the bytes there.
     *
     * @throws SnapshotException naming the file and why no format (or the one that recognised it) could open it
     */
    SnapshotReader open(Path file, long offset);
}
