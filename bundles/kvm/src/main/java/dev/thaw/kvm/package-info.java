/**
 * The KVM runtime: a {@link dev.thaw.kvm.Hypervisor} service creates
 * {@link dev.thaw.kvm.VirtualMachine}s with guest memory, vCPUs on their own threads, exits dispatched
 * to an {@link dev.thaw.kvm.IoHandler}, pause/resume at a consistent point, and x86 state get/set as
 * {@code dev.thaw.api.state} records.
 */
@Export
@Version("1.0.0")
package dev.thaw.kvm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
