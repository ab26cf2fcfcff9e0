package dev.thaw.kvm;

import org.osgi.annotation.versioning.ProviderType;

/**
 * KVM on this host, as an OSGi service. It opens {@code /dev/kvm} and reads the host's facts when it
 * activates (so the first VM costs what later ones do) and, when the service goes away, closes it
 * together with every VM still open.
 */
@ProviderType
public interface Hypervisor {

    /**
     * Creates a VM: KVM_CREATE_VM and the identity-map and TSS addresses. Its in-kernel irqchip (PICs,
     * IOAPIC, local APICs) and, if {@link VmOptions#pit()}, in-kernel PIT follow when first needed: before
     * the first vCPU, or at the first IRQ line or VM state call, after the memory added until then
     * (KVM registers memory faster before the irqchip). Nothing is left behind when it fails.
     *
     * @throws KvmException when KVM refuses (the message names the ioctl and errno)
     */
    VirtualMachine createVm(VmOptions options);
}
