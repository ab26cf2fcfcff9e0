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
     * Brings a VM back from a snapshot file: loads all state and all memory, then starts the vCPUs. The
     * restored VM continues exactly where the snapshot was taken.
     *
     * @param name the new VM's id, or null to have one chosen
     * @throws dev.thaw.api.snapshot.SnapshotException if the file is not a usable snapshot (nothing is left behind)
     */
    Vm restore(Path file, String name, Progress progress);

    /** The VMs, in the order they were created. */
    List<Vm> list();

    Optional<Vm> find(String id);
}
