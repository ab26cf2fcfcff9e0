package dev.thaw.api.vm;

import java.util.Optional;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A runtime that runs a whole VM in a process of its own (QEMU), where a
 * {@link dev.thaw.api.runtime.VcpuRuntime} runs vCPUs over memory Thaw maps. The {@link VmManager} lists it
 * with the vCPU runtimes, hands it the test guest when a command names it, and the snapshots of the formats
 * it {@linkplain #restores restores}; the VMs it makes are in the manager's list like any other. A DS service;
 * commands name it by {@link #name()}.
 */
@ConsumerType
public interface ProcessRuntime {

    /** e.g. {@code qemu}; distinct from every vCPU runtime's name. */
    String name();

    /** One line on what it is. */
    String description();

    /** Why it cannot run VMs here (its program missing or too old, say), or empty when it can. */
    Optional<String> unavailableReason();

    /** Whether snapshots in {@code format} ({@link dev.thaw.api.snapshot.SnapshotReader#format()}) are this runtime's to restore. */
    boolean restores(String format);

    /**
     * Boots the test guest and returns once it runs. On failure nothing is left running.
     *
     * @throws VmException naming the VM and what failed
     */
    Vm boot(ProcessBoot boot);

    /**
     * Brings a VM back from a snapshot in one of its formats, eagerly or lazily, and returns once its vCPUs
     * run. On failure nothing is left running.
     *
     * @throws dev.thaw.api.snapshot.SnapshotException the file cannot be restored (naming it and why)
     * @throws VmException the VM could not be made or failed while it was being restored
     */
    Vm restore(ProcessRestore restore);
}
