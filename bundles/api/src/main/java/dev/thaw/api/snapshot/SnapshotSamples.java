package dev.thaw.api.snapshot;

import java.nio.file.Path;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/** Sample snapshot files that come with Thaw, to try its commands on (and to test with) without making one. */
@ProviderType
public interface SnapshotSamples {

    /** The samples' names (file names, e.g. {@code qemu-microvm.mr}), each with a line saying what it is. */
    Map<String, String> samples();

    /**
     * Writes sample {@code name} into the folder {@code dir} (made if missing) as a sparse file of that name,
     * replacing one that is there.
     *
     * @return the file written
     * @throws IllegalArgumentException if there is no such sample
     * @throws java.io.UncheckedIOException if it cannot be written
     */
    Path write(String name, Path dir);
}
