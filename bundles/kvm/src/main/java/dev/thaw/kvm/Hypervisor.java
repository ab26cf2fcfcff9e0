package dev.thaw.kvm;

import dev.thaw.api.runtime.MemoryRange;
import org.osgi.annotation.versioning.ProviderType;

/**
 * KVM on this host, as an OSGi service. It opens {@code /dev/kvm} and reads the host's facts when it
 * activates (so the first VM costs what later ones do) and, when the service goes away, closes it
 * together with every VM still open.
 */
@ProviderType
public interface Hypervisor extends dev.thaw.api.runtime.VcpuRuntime {

    /**
     * Creates a VM: KVM_CREATE_VM and the identity-map and TSS addresses. Its in-kernel irqchip (PICs,
     * IOAPIC, local APICs) and, if {@link VmOptions#pit()}, in-kernel PIT follow when first needed: before
     * the first vCPU, or at the first IRQ line or VM state call, after the memory added until then
     * (KVM registers memory faster before the irqchip). Nothing is left behind when it fails.
     *
     * @throws KvmException when KVM refuses (the message names the ioctl and errno)
     */
    VirtualMachine createVm(VmOptions options);

    /**
     * Creates a VM with {@code memory} added as slots 0, 1, ... in order, as {@link #createVm(VmOptions)}
     * and {@link VirtualMachine#addMemory} would. Where a spare of the same options and memory was made
     * ahead ({@link #keepSpare}), the VM is made from it, which skips creating the VM and registering its
     * memory (KVM's per-slot set-up grows with the memory size), and the next spare is made in the
     * background.
     *
     * @throws KvmException when KVM refuses (the message names the ioctl and errno)
     */
    VirtualMachine createVm(VmOptions options, java.util.List<MemoryRange> memory);

    /**
     * Asks for an empty VM of these options and memory to be kept ready, made in the background, for
     * a {@link #createVm(VmOptions, java.util.List)} to come (a restore of a snapshot just written, say).
     * Spares are kept for the few layouts asked for last, as configured; none where spares are off.
     */
    void keepSpare(VmOptions options, java.util.List<MemoryRange> memory);
}
