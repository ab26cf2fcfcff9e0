/**
 * Thin handles on KVM file descriptors: {@link dev.thaw.linux.kvm.Kvm} ({@code /dev/kvm}),
 * {@link dev.thaw.linux.kvm.VmFd} and {@link dev.thaw.linux.kvm.VcpuFd}, plus the shared
 * {@link dev.thaw.linux.kvm.KvmRun} page. Each method allocates its struct in a confined arena, makes
 * one ioctl, checks it and returns a value (x86 state as {@code dev.thaw.api.state} records); no policy,
 * retries or logging. Javadoc names the ioctl and the capability it needs.
 */
@Export
@Version("1.1.0")
package dev.thaw.linux.kvm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
