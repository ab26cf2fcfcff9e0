package dev.thaw.kvm.impl;

import dev.thaw.api.state.MsrEntry;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.kvm.VcpuFd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds which MSRs of KVM_GET_MSR_INDEX_LIST a snapshot can hold: those KVM_GET_MSRS reads on a vCPU
 * and KVM_SET_MSRS takes back. Both ioctls stop at the first MSR they refuse and return how many they
 * handled, which names the refused MSR; it is dropped and the rest tried again. Probed on a fresh vCPU
 * (after its CPUID is set, since CPUID decides which MSRs exist) by writing back the values just read,
 * which changes nothing.
 *
 * <p>Probed once per host, on the first fresh vCPU asked about (the {@link Warmup} VM's), and reused
 * for every later VM: the answer depends only on the candidates (a host fact), the vCPU's CPUID (every
 * vCPU gets KVM_GET_SUPPORTED_CPUID, differing only in APIC ID fields, which enable no MSR) and the VM's
 * set-up, alike on every VM (in-kernel irqchip, no KVM_ENABLE_CAP) but for the PIT, which has no MSRs.
 * The cache holds MSR indices only, never a vCPU or its values. SaveableMsrsTest probes every vCPU of
 * VMs with and without a PIT, with one and four vCPUs, and finds the cached answer.
 */
final class SaveableMsrs {

    private static final Logger LOG = LoggerFactory.getLogger(SaveableMsrs.class);

    /**
     * MSR_IA32_TSC_DEADLINE goes last: KVM decides whether to arm the deadline timer by comparing the
     * deadline with the guest TSC, so MSR_IA32_TSC must already be restored (Firecracker defers it too).
     */
    static final long MSR_IA32_TSC_DEADLINE = 0x6e0;

    /** The probe's answer; null until the first probe. */
    private long[] probed;

    /**
     * The saveable MSR indices in restore order: probed on {@code fresh} (a vCPU with its CPUID set that
     * has not run) the first time, the same array after. Callers must not modify it.
     */
    synchronized long[] get(VcpuFd fresh, long[] candidates, String vmName) {
        if (probed == null) {
            probed = probe(fresh, candidates, vmName);
        }
        return probed;
    }

    /** The saveable MSR indices in restore order. */
    static long[] probe(VcpuFd vcpu, long[] candidates, String vmName) {
        List<Long> refused = new ArrayList<>();
        List<MsrEntry> readable = new ArrayList<>();
        long[] remaining = candidates;
        while (remaining.length > 0) {
            List<MsrEntry> read = vcpu.getMsrs(remaining);
            readable.addAll(read);
            if (read.size() == remaining.length) {
                break;
            }
            refused.add(remaining[read.size()]);
            remaining = Arrays.copyOfRange(remaining, read.size() + 1, remaining.length);
        }
        List<MsrEntry> settable = new ArrayList<>();
        List<MsrEntry> toSet = readable;
        while (!toSet.isEmpty()) {
            int n;
            try {
                n = vcpu.setMsrs(toSet);
            } catch (ErrnoException e) {
                throw new IllegalStateException("KVM_SET_MSRS failed while probing MSRs: " + e.getMessage(), e);
            }
            settable.addAll(toSet.subList(0, n));
            if (n == toSet.size()) {
                break;
            }
            refused.add(toSet.get(n).index());
            toSet = toSet.subList(n + 1, toSet.size());
        }
        long[] order = settable.stream().mapToLong(MsrEntry::index)
                .filter(i -> i != MSR_IA32_TSC_DEADLINE).toArray();
        boolean deadline = settable.stream().anyMatch(e -> e.index() == MSR_IA32_TSC_DEADLINE);
        long[] result = deadline ? Arrays.copyOf(order, order.length + 1) : order;
        if (deadline) {
            result[order.length] = MSR_IA32_TSC_DEADLINE;
        }
        LOG.debug("VM {}: {} of {} MSRs in KVM_GET_MSR_INDEX_LIST are saveable{}", vmName, result.length,
                candidates.length, refused.isEmpty() ? "" : "; not saveable: " + hex(refused));
        return result;
    }

    private static String hex(List<Long> indices) {
        StringBuilder b = new StringBuilder();
        for (long i : indices) {
            b.append(b.isEmpty() ? "" : ", ").append("0x").append(Long.toHexString(i));
        }
        return b.toString();
    }
}
