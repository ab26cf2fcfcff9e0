package dev.thaw.api.snapshot;

import java.nio.file.Path;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** Writes Thaw snapshot files. */
@ProviderType
public interface SnapshotWriter {

    /**
     * Writes {@code state} and {@code memory} to {@code file}: to a temporary file in the same folder,
     * forced to disk, then renamed into place, so {@code file} is either complete or untouched. All-zero
     * pages are not written (the file is sparse).
     *
     * @param progress told the bytes of guest memory done so far, out of the total
     * @throws SnapshotException naming the file and the problem
     */
    SnapshotSummary write(Path file, MachineState state, List<GuestMemory> memory, Progress progress);
}
