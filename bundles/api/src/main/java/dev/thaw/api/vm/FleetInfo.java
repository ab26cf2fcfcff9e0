package dev.thaw.api.vm;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A fleet: VMs restored together from one snapshot ({@link VmManager#restoreFleet}), and the host memory they
 * hold between them.
 *
 * @param name the fleet's name; its VMs are {@code name-1} to {@code name-N}
 * @param file the snapshot they were restored from
 * @param shared whether they share the snapshot's pages through one page cache
 * @param members the ids of its VMs still known to the platform, in order
 * @param snapshotBytes the memory one VM restored from the snapshot holds once fully loaded: its stored pages
 * @param cacheBytes host memory of the shared page cache (0 for a fleet that shares nothing)
 * @param hostBytes host memory the fleet holds: the shared page cache once, and each member's own pages
 *     (for a fleet that shares nothing, the sum of its members' memory)
 * @param problem what went wrong with the snapshot file under a shared fleet, in one line naming the file
 *     ({@link dev.thaw.api.restore.SharedPageCache#problem()}); empty when nothing did, or the fleet shares nothing
 */
public record FleetInfo(String name, Path file, boolean shared, List<String> members, long snapshotBytes, long cacheBytes,
        long hostBytes, Optional<String> problem) {

    public FleetInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(problem, "problem");
        members = List.copyOf(members);
    }

    /** A fleet without a problem (the constructor before {@link #problem()}). */
    public FleetInfo(String name, Path file, boolean shared, List<String> members, long snapshotBytes, long cacheBytes,
            long hostBytes) {
        this(name, file, shared, members, snapshotBytes, cacheBytes, hostBytes, Optional.empty());
    }

    /** What its members would hold without sharing, fully loaded: N times the snapshot's stored pages. */
    public long unsharedBytes() {
        return members.size() * snapshotBytes;
    }
}
