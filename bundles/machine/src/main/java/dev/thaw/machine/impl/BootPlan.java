package dev.thaw.machine.impl;

import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Workload;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A boot request checked against what the test guest and this VMM can do, with its memory layout.
 * Every refusal is one line naming the problem, before anything is allocated.
 */
record BootPlan(String id, BootRequest request, List<MemoryLayout.Region> regions, byte[] bootParameters) {

    /** The guest identity-maps RAM with 2 MiB pages, and its page tables cover this much. */
    static final long MAX_MEMORY = 64L << 30;
    static final long MEMORY_ALIGNMENT = 2L << 20;
    static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,39}");

    static BootPlan of(String id, BootRequest request, GuestImage image) {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("VM name '" + id + "' must be 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        long memory = request.memoryBytes();
        long minimum = image.reservedEnd() + MEMORY_ALIGNMENT;
        if (memory < minimum) {
            throw new IllegalArgumentException("memory " + mib(memory) + " is smaller than the " + mib(minimum) + " the test guest needs");
        }
        if (memory > MAX_MEMORY) {
            throw new IllegalArgumentException("memory " + mib(memory) + " is larger than the " + mib(MAX_MEMORY) + " the test guest can map");
        }
        if (memory % MEMORY_ALIGNMENT != 0) {
            throw new IllegalArgumentException("memory " + memory + " bytes is not a multiple of 2 MiB");
        }
        if (request.vcpus() > image.maxVcpus()) {
            throw new IllegalArgumentException(request.vcpus() + " vCPUs is more than the " + image.maxVcpus() + " the test guest supports");
        }
        long usable = memory - image.reservedEnd();
        if (request.workload() != Workload.FILL && request.workingSetBytes() > usable) {
            throw new IllegalArgumentException("working set " + mib(request.workingSetBytes()) + " does not fit the "
                    + mib(usable) + " of guest memory above the guest's own pages");
        }
        if (request.workload() == Workload.FUNCTION && request.residentBytes() > usable) {
            throw new IllegalArgumentException("resident set " + mib(request.residentBytes()) + " does not fit the "
                    + mib(usable) + " of guest memory above the guest's own pages");
        }
        List<MemoryLayout.Region> regions = MemoryLayout.regions(memory);
        return new BootPlan(id, request, regions, BootParameters.encode(request, regions));
    }

    /** The regions as a snapshot names them: {@code ram0} below 3 GiB, {@code ram1} from 4 GiB. */
    List<RegionLayout> layouts() {
        List<RegionLayout> layouts = new java.util.ArrayList<>();
        for (int i = 0; i < regions.size(); i++) {
            layouts.add(new RegionLayout("ram" + i, regions.get(i).guestAddress(), regions.get(i).size()));
        }
        return layouts;
    }

    private static String mib(long bytes) {
        return bytes % (1L << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
    }

    /** The snapshot's memory and vCPUs must be exactly those this plan makes from its boot request. */
    void checkFits(Path file, MachineState state, SnapshotReader reader) {
        if (!layouts().equals(state.memory())) {
            throw new SnapshotException(file, "its memory regions " + state.memory() + " do not fit its memory size of "
                    + state.boot().memoryBytes() + " bytes");
        }
        List<SnapshotRegion> regions = reader.regions();
        for (int i = 0; i < regions.size() && i < state.memory().size(); i++) {
            RegionLayout want = state.memory().get(i);
            SnapshotRegion have = regions.get(i);
            if (have.size() != want.size() || have.guestAddress() != want.guestAddress()) {
                throw new SnapshotException(file, "memory region " + have.name() + " does not match its state");
            }
        }
        if (regions.size() != state.memory().size()) {
            throw new SnapshotException(file, "holds " + regions.size() + " memory regions, its state " + state.memory().size());
        }
        if (state.vcpus().size() != state.boot().vcpus()) {
            throw new SnapshotException(file, "holds " + state.vcpus().size() + " vCPU states for " + state.boot().vcpus() + " vCPUs");
        }
    }
}
