/**
 * The vCPU runtime SPI: what every runtime that runs Thaw's VMs provides. A {@link dev.thaw.api.runtime.VcpuRuntime}
 * is a Declarative Services service named by {@link dev.thaw.api.runtime.VcpuRuntime#NAME_PROPERTY}
 * ({@code kvm}, {@code emulated}); it creates {@link dev.thaw.api.runtime.VirtualMachine}s with guest memory
 * (a host mapping the restore engine can register with userfaultfd), vCPUs whose architectural state reads
 * and writes as the {@code dev.thaw.api.state} records, pause and resume at instruction boundaries, and an
 * I/O bus. Callers never ask which runtime they have.
 */
@Export
@Version("1.2.0")
package dev.thaw.api.runtime;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
