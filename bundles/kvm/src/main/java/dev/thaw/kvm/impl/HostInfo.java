package dev.thaw.kvm.impl;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.kvm.KvmException;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.kvm.Kvm;
import dev.thaw.linux.kvm.KvmConstants;
import java.util.List;

/**
 * What every VM needs to know about this host's KVM, read once from {@code /dev/kvm}.
 *
 * @param vcpuMmapSize KVM_GET_VCPU_MMAP_SIZE
 * @param supportedCpuid KVM_GET_SUPPORTED_CPUID, the template of every vCPU's CPUID
 * @param msrIndexList KVM_GET_MSR_INDEX_LIST, the candidates of {@link SaveableMsrs}; never modified
 * @param identityMap whether KVM_SET_IDENTITY_MAP_ADDR exists
 * @param memorySlots KVM_CAP_NR_MEMSLOTS (0: unknown)
 * @param maxVcpus KVM_CAP_MAX_VCPUS or KVM_CAP_NR_VCPUS (0: unknown)
 * @param tscKhzReadable whether KVM_GET_TSC_KHZ exists (KVM_CAP_GET_TSC_KHZ)
 * @param tscControl whether KVM_SET_TSC_KHZ can run a guest's TSC at another rate than the host's (KVM_CAP_TSC_CONTROL)
 */
record HostInfo(int vcpuMmapSize, List<CpuidEntry> supportedCpuid, long[] msrIndexList,
        boolean identityMap, int memorySlots, int maxVcpus, boolean tscKhzReadable, boolean tscControl) {

    /** Capabilities Thaw cannot work without. */
    private static final int[] REQUIRED = {KvmConstants.KVM_CAP_IRQCHIP, KvmConstants.KVM_CAP_USER_MEMORY,
        KvmConstants.KVM_CAP_EXT_CPUID, KvmConstants.KVM_CAP_SET_TSS_ADDR, KvmConstants.KVM_CAP_IMMEDIATE_EXIT};

    /** Reads the facts of the KVM behind {@code kvm} (opened from {@code device}), checking API version and capabilities. */
    static HostInfo read(Kvm kvm, String device) {
        try {
            int version = kvm.apiVersion();
            if (version != KvmConstants.KVM_API_VERSION) {
                throw new KvmException(device + " speaks KVM API " + version + ", Thaw needs "
                        + KvmConstants.KVM_API_VERSION);
            }
            for (int cap : REQUIRED) {
                if (kvm.checkExtension(cap) <= 0) {
                    throw new KvmException(device + " lacks KVM capability " + cap + ", which Thaw needs");
                }
            }
            return new HostInfo(kvm.vcpuMmapSize(), List.copyOf(kvm.supportedCpuid()), kvm.msrIndexList(),
                    kvm.checkExtension(KvmConstants.KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0,
                    kvm.checkExtension(KvmConstants.KVM_CAP_NR_MEMSLOTS),
                    Math.max(kvm.checkExtension(KvmConstants.KVM_CAP_MAX_VCPUS),
                            kvm.checkExtension(KvmConstants.KVM_CAP_NR_VCPUS)),
                    kvm.checkExtension(KvmConstants.KVM_CAP_GET_TSC_KHZ) > 0,
                    kvm.checkExtension(KvmConstants.KVM_CAP_TSC_CONTROL) > 0);
        } catch (ErrnoException e) {
            throw new KvmException("open " + device + ": " + e.getMessage(), e);
        }
    }
}
