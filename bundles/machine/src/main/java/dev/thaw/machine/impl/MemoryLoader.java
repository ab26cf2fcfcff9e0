package dev.thaw.machine.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.restore.HostRegion;
import dev.thaw.api.restore.LazyRestorer;
import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreRequest;
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
interface MemoryLoader {

    /** @return the memory a lazy restore is loading, or null when all of it is in already */
    RestoredMemory load(List<GuestMemoryRegion> regions, GuestVm vm);

    /**
     * Whether the loader registers the memory with userfaultfd, whose UFFDIO_COPY installs 4 KiB pages: such
     * memory must not be huge pages.
     */
    boolean servesFaults();

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
        return new MemoryLoader() {
            @Override
            public RestoredMemory load(List<GuestMemoryRegion> regions, GuestVm vm) {
                return new RestoredMemory(vm.id(), reader, restorer.start(new RestoreRequest(reader,
                        regions.stream().map(r -> new HostRegion(r.hostAddress(), r.size())).toList(), policy, Map.of(),
                        loaderThreads, record ? ProfileMode.RECORD : ProfileMode.USE, profile, vm::vcpuOfThread, vm::memoryFailed,
                        vm.requestedNanos())));
            }

            @Override
            public boolean servesFaults() {
                return true;
            }
        };
    }
}
