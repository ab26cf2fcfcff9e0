package dev.thaw.kvm.impl;

import dev.thaw.api.state.CpuidEntry;
import java.util.ArrayList;
import java.util.List;

/** Turns KVM_GET_SUPPORTED_CPUID into one vCPU's CPUID by writing its APIC ID where x86 reports it. */
final class CpuidTemplate {

    /** Leaf 1: EBX[31:24] is the initial APIC ID. */
    static final long LEAF_FEATURES = 0x1;
    /** Leaves 0xB and 0x1F (extended topology): EDX is the x2APIC ID, in every subleaf. */
    static final long LEAF_TOPOLOGY = 0xB;
    static final long LEAF_TOPOLOGY_V2 = 0x1F;
    /** AMD leaf 0x8000001E: EAX is the extended APIC ID. */
    static final long LEAF_AMD_EXTENDED_APIC_ID = 0x8000_001EL;

    private CpuidTemplate() {}

    static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId) {
        List<CpuidEntry> out = new ArrayList<>(supported.size());
        for (CpuidEntry e : supported) {
            CpuidEntry patched = e;
            if (e.function() == LEAF_FEATURES) {
                long ebx = (e.ebx() & 0x00ff_ffffL) | ((long) (apicId & 0xff) << 24);
                patched = new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), ebx, e.ecx(), e.edx());
            } else if (e.function() == LEAF_TOPOLOGY || e.function() == LEAF_TOPOLOGY_V2) {
                patched = new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx(), e.ecx(), apicId);
            } else if (e.function() == LEAF_AMD_EXTENDED_APIC_ID) {
                patched = new CpuidEntry(e.function(), e.index(), e.flags(), apicId, e.ebx(), e.ecx(), e.edx());
            }
            out.add(patched);
        }
        return out;
    }
}
