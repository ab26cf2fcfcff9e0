package dev.thaw.api.vm;

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

    /** The VMs, in the order they were created. */
    List<Vm> list();

    Optional<Vm> find(String id);
}
