package dev.thaw.machine.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.restore.HostRegion;
import dev.thaw.api.restore.LazyRestorer;
import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.restore.SharedPageCache;
import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Fills a restored VM's memory from its snapshot: before returning (eager), or after the vCPUs start
 * (lazy; returns the memory being loaded, which owns the reader from then on).
 */
@FunctionalInterface
interface MemoryLoader {

    /** @return the memory a lazy restore is loading, or null when all of it is in already */
    RestoredMemory load(List<GuestMemoryRegion> regions, GuestVm vm);

    /**
     * Whether the loader registers the memory with userfaultfd: the runtime then leaves huge pages to the restore
     * engine, which advises the memory itself where it moves whole huge pages in (UFFDIO_COPY installs 4 KiB
     * pages). Every loader but the eager one does.
     */
    default boolean servesFaults() {
        return true;
    }

    static MemoryLoader eager(SnapshotReader reader, Progress progress) {
        return new MemoryLoader() {
            @Override
            public RestoredMemory load(List<GuestMemoryRegion> regions, GuestVm vm) {
                EagerLoader.load(reader, regions, progress);
                return null;
            }

            @Override
            public boolean servesFaults() {
                return false;
            }
        };
    }

    /** Memory arrives through userfaultfd while the vCPUs run; {@code policy} decides the order. */
    static MemoryLoader lazy(LazyRestorer restorer, SnapshotReader reader, PagePolicy policy, int loaderThreads, boolean record,
            Path profile) {
        return (regions, vm) -> new RestoredMemory(vm.id(), reader, restorer.start(request(reader, regions, vm, policy,
                loaderThreads, record ? ProfileMode.RECORD : ProfileMode.USE, profile)));
    }

    /**
     * As {@link #lazy}, the memory mapping the pages of a fleet's shared page cache, copy-on-write; the fleet holds
     * the reader.
     */
    static MemoryLoader shared(LazyRestorer restorer, SharedPageCache cache, SnapshotReader reader, PagePolicy policy,
            int loaderThreads, Path profile) {
        return (regions, vm) -> new RestoredMemory(vm.id(), null, restorer.start(request(reader, regions, vm, policy,
                loaderThreads, ProfileMode.USE, profile), cache));
    }

    private static RestoreRequest request(SnapshotReader reader, List<GuestMemoryRegion> regions, GuestVm vm, PagePolicy policy,
            int loaderThreads, ProfileMode profileMode, Path profile) {
        return new RestoreRequest(reader, regions.stream().map(r -> new HostRegion(r.hostAddress(), r.size())).toList(), policy,
                Map.of(), loaderThreads, profileMode, profile, vm::vcpuOfThread, vm::memoryFailed, vm.requestedNanos());
    }
}
