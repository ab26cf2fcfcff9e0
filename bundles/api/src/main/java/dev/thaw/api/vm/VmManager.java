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
