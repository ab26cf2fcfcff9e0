package dev.thaw.api.restore;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.snapshot.SnapshotReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;

/**
 * What a lazy restore needs.
 *
 * @param reader the open snapshot; the caller closes it after the restore ends (completion or close)
 * @param memory host memory per snapshot region, same order and sizes
 * @param policy decides what is loaded first
 * @param policyParameters given to the policy through its {@code RestoreView}
 * @param loaderThreads background loader threads (0: none)
 * @param profile what to do with the snapshot's working-set profile
 * @param profileFile where that profile is (read with {@link ProfileMode#USE}, written with
 *     {@link ProfileMode#RECORD}); {@link #profileBeside} by default
 * @param vcpuOfThread maps a faulting Linux thread id to its vCPU index, or -1 for other threads;
 *     called from the fault service, so it must be quick and must not block
 * @param onFailure told, once, when a page cannot be loaded, before any vCPU waiting for a page is let go
 *     (so the caller's record of the failure comes first); it must not block, since vCPUs may wait on
 *     the engine: a caller that stops the VM does so on a thread of its own
 * @param startNanos {@link System#nanoTime()} when the restore command began: the origin of
 *     {@code resumeLatency} and {@code fullLoadTime}
 */
public record RestoreRequest(SnapshotReader reader, List<HostRegion> memory, PagePolicy policy,
        Map<String, Object> policyParameters, int loaderThreads, ProfileMode profile, Path profileFile,
        IntUnaryOperator vcpuOfThread, Consumer<RestoreFailure> onFailure, long startNanos) {

    public RestoreRequest {
        Objects.requireNonNull(reader, "reader");
        memory = List.copyOf(memory);
        Objects.requireNonNull(policy, "policy");
        policyParameters = Map.copyOf(policyParameters);
        if (loaderThreads < 0) {
            throw new IllegalArgumentException("loader threads " + loaderThreads);
        }
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(profileFile, "profileFile");
        Objects.requireNonNull(vcpuOfThread, "vcpuOfThread");
        Objects.requireNonNull(onFailure, "onFailure");
    }

    /** Where a snapshot's working-set profile is unless configured otherwise: {@code <snapshot>.profile.json}. */
    public static Path profileBeside(Path snapshot) {
        return snapshot.resolveSibling(snapshot.getFileName() + ".profile.json");
    }

    /**
     * A request with no parameters, one loader thread, profile USE beside the snapshot, no thread mapping,
     * starting now.
     */
    public static RestoreRequest of(SnapshotReader reader, List<HostRegion> memory, PagePolicy policy,
            Consumer<RestoreFailure> onFailure) {
        return new RestoreRequest(reader, memory, policy, Map.of(), 1, ProfileMode.USE, profileBeside(reader.file()),
                tid -> -1, onFailure, System.nanoTime());
    }

    public RestoreRequest withLoaderThreads(int threads) {
        return new RestoreRequest(reader, memory, policy, policyParameters, threads, profile, profileFile, vcpuOfThread,
                onFailure, startNanos);
    }

    public RestoreRequest withProfile(ProfileMode mode) {
        return new RestoreRequest(reader, memory, policy, policyParameters, loaderThreads, mode, profileFile,
                vcpuOfThread, onFailure, startNanos);
    }

    public RestoreRequest withProfileFile(Path file) {
        return new RestoreRequest(reader, memory, policy, policyParameters, loaderThreads, profile, file, vcpuOfThread,
                onFailure, startNanos);
    }

    public RestoreRequest withVcpuOfThread(IntUnaryOperator map) {
        return new RestoreRequest(reader, memory, policy, policyParameters, loaderThreads, profile, profileFile, map,
                onFailure, startNanos);
    }

    public RestoreRequest withPolicyParameters(Map<String, Object> parameters) {
        return new RestoreRequest(reader, memory, policy, parameters, loaderThreads, profile, profileFile, vcpuOfThread,
                onFailure, startNanos);
    }
}
