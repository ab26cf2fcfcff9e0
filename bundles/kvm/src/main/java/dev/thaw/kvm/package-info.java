/**
 * The KVM runtime's own types, beside the runtime SPI ({@code dev.thaw.api.runtime}) it provides: a
 * {@link dev.thaw.kvm.Hypervisor} creates {@link dev.thaw.kvm.VirtualMachine}s with memory slots, vCPUs
 * with KVM's set-up and ioctl-level state accessors, and the in-kernel irqchip. Private to the KVM
 * bundle (and its tests); other bundles see only the SPI.
 */
package dev.thaw.kvm;
