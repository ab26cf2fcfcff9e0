package dev.thaw.api.bench;

import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Loads a snapshot file's main RAM block into guest-sized memory through userfaultfd with each installed
 * policy's background loaders (no vCPU faults: pure loading), beside Thaw's plain eager read and, where
 * QEMU 9 or later is installed and the file is QEMU's, QEMU's own eager load of the same file, in one run.
 */
@ProviderType
public interface FileLoadBenchmark {

    /**
     * Runs the benchmark and writes {@code results.json} into a new folder under the request's results root.
     *
     * @param progress one line per step, for a user watching
     */
    FileLoadReport run(FileLoadRequest request, Consumer<String> progress);
}
