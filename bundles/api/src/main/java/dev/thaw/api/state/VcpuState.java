package dev.thaw.api.state;

import java.util.List;
import java.util.Objects;

/**
 * Everything KVM keeps about one vCPU that a snapshot needs. The FPU state is inside {@code xsave}.
 * KVM requires the parts back in a particular order; the implementation that restores them documents it.
 *
 * @param msrs the saveable MSRs (those of {@code KVM_GET_MSR_INDEX_LIST} that this KVM can both read
 *     and write back), in the order they are to be restored
 */
public record VcpuState(
        List<CpuidEntry> cpuid, MpState mpState, Regs regs, Sregs sregs, Xsave xsave, Xcrs xcrs,
        DebugRegs debugRegs, LapicState lapic, List<MsrEntry> msrs, VcpuEvents events) {

    public VcpuState {
        cpuid = List.copyOf(cpuid);
        msrs = List.copyOf(msrs);
        Objects.requireNonNull(mpState, "mpState");
        Objects.requireNonNull(regs, "regs");
        Objects.requireNonNull(sregs, "sregs");
        Objects.requireNonNull(xsave, "xsave");
        Objects.requireNonNull(xcrs, "xcrs");
        Objects.requireNonNull(debugRegs, "debugRegs");
        Objects.requireNonNull(lapic, "lapic");
        Objects.requireNonNull(events, "events");
    }
}
