package dev.thaw.api.bench;

import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Snapshots a {@code function} guest after one invocation, then restores it as N VMs three ways, one after the
 * other in one run: a fleet sharing the snapshot's pages, N independent lazy restores, N eager restores. Each row
 * counts the time from the restore command until every VM has answered its first invocation, and the host memory
 * the VMs hold once fully loaded.
 */
@ProviderType
public interface FleetBenchmark {

    /**
     * Runs the benchmark and writes {@code results.json} into a new folder under the request's results root. No VM
     * of the benchmark is left running, whether it succeeds or fails.
     *
     * @param progress one line per step, for a user watching
     * @throws IllegalArgumentException if the host has too little memory for the request's VMs
     */
    FleetBenchReport run(FleetBenchRequest request, Consumer<String> progress);
}
