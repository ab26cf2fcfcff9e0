package dev.thaw.api.vm;

import dev.thaw.api.snapshot.Progress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** Boots the test guest and keeps track of the VMs of this platform. */
@ProviderType
public interface VmManager {

    /**
     * Creates and starts a VM. On failure nothing is left behind.
     *
     * @throws IllegalArgumentException if the request cannot fit (memory, vCPUs)
     * @throws VmException if the host cannot make the VM
     */
    Vm boot(BootRequest request);

    /**
     * Creates and starts a VM on the vCPU runtime named {@code runtime} (null: the configured one, as
     * {@link #boot(BootRequest)}).
     *
     * @throws IllegalArgumentException if the request cannot fit, or no such runtime is installed
     * @throws VmException if the host cannot make the VM (the runtime is not available here, say)
     */
    Vm boot(BootRequest request, String runtime);

    /** The installed vCPU runtimes, by name: whether each can run here (or why not), and which is the default. */
    List<RuntimeInfo> runtimes();

    /**
     * Brings a VM back from a snapshot file. Eager: loads all state and memory, then starts the vCPUs.
     * Lazy: loads state, starts the vCPUs, and loads memory while they run, in the order the page
     * policy chooses. Either way the VM continues exactly where the snapshot was taken.
     *
     * @throws dev.thaw.api.snapshot.SnapshotException if the file is not a usable snapshot (nothing is left behind)
     * @throws IllegalArgumentException if the name is taken or the policy is not installed
     */
    Vm restore(RestoreOptions options, Progress progress);

    /**
     * Restores {@code count} VMs from one snapshot as a fleet named {@code options.name()} (or one chosen), its VMs
     * {@code NAME-1} to {@code NAME-count}, each restored as {@link #restore} would. With {@code share} their memory
     * shares the snapshot's pages: each stored page is read and verified once, into a page cache every member maps
     * copy-on-write, so a member's host memory grows only with the pages it writes; the page policy still orders
     * what the cache loads first. On failure no member is left.
     *
     * @throws dev.thaw.api.snapshot.SnapshotException if the file is not a usable snapshot
     * @throws IllegalArgumentException if a member's name is taken, the count is below 1, or the snapshot or the
     *     options cannot make a fleet (sharing is for lazy restores of Thaw snapshots)
     */
    List<Vm> restoreFleet(RestoreOptions options, int count, boolean share, Progress progress);

    /** The fleets whose VMs are still known, in the order they were restored. */
    List<FleetInfo> fleets();

    /** The restore settings in force, and why the last configuration change was refused, if it was. */
    RestoreSettings restoreSettings();

    /**
     * Where a restore of {@code snapshot} reads its working-set profile, and a restore with
     * {@link RestoreOptions#recordProfile()} writes it: beside the snapshot, or in the configured folder.
     */
    Path profileFile(Path snapshot);

    /** The VMs, in the order they were created. */
    List<Vm> list();

    Optional<Vm> find(String id);
}
