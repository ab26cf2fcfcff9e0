package dev.thaw.api.runtime;

import dev.thaw.api.state.VcpuState;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One vCPU. Its state can be read and written while the VM is not running (before
 * {@link VirtualMachine#start}, while paused, after it stopped); otherwise the calls throw
 * {@link IllegalStateException}.
 */
@ProviderType
public interface Vcpu {

    /** 0 for the bootstrap processor, then 1, 2, ...; also its initial APIC ID. */
    int index();

    /** Everything a snapshot needs of this vCPU, read in the order the runtime needs. */
    VcpuState saveState();

    /**
     * Writes {@code state} back, in the order the runtime requires; what follows runs exactly as the
     * vCPU it was saved from would have.
     *
     * @throws VcpuRuntimeException when some part of the state cannot be carried over (the message says which)
     */
    void restoreState(VcpuState state);
}
