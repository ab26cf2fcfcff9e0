package dev.thaw.api.bench;

import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Snapshots a {@code function} guest, then restores it eagerly and with each installed page policy,
 * invokes it once per restore and reports the figures per mode, beside a warm VM and (where QEMU 9 or
 * later is installed) QEMU's own eager load of the same amount of memory.
 */
@ProviderType
public interface RestoreBenchmark {

    /**
     * Runs the benchmark and writes {@code results.json} and {@code chart.svg} into a new folder under
     * the request's results root.
     *
     * @param progress one line per step, for a user watching
     */
    BenchReport run(BenchRequest request, Consumer<String> progress);
}
