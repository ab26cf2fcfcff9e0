package dev.thaw.api.state;

import java.util.List;
import java.util.Objects;

/**
 * Everything KVM keeps about one vCPU that a snapshot needs. The FPU state is inside {@code xsave}.
 * KVM requires the parts back in a particular order; the implementation that restores them documents it.
 *
 * @param msrs the saveable MSRs (those of {@code KVM_GET_MSR_INDEX_LIST} that this KVM can both read
 *     and write back), in the order they are to be restored
 * @param tscKhz the rate at which the guest saw its TSC count, in kHz ({@code KVM_GET_TSC_KHZ}); a restore
 *     runs the TSC at this rate again where the runtime can, so that a guest calibrated on one host keeps its
 *     time on another. {@link #TSC_KHZ_UNKNOWN} where the state does not say (snapshots written before Thaw
 *     saved it): the guest's TSC then runs at the rate of the host it is restored on.
 */
public record VcpuState(
        List<CpuidEntry> cpuid, MpState mpState, Regs regs, Sregs sregs, Xsave xsave, Xcrs xcrs,
        DebugRegs debugRegs, LapicState lapic, List<MsrEntry> msrs, VcpuEvents events, long tscKhz) {

    /** The {@link #tscKhz()} of a state that does not say its TSC rate. */
    public static final long TSC_KHZ_UNKNOWN = 0;

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
        if (tscKhz < 0 || tscKhz > 0xffff_ffffL) {
            throw new IllegalArgumentException("TSC rate " + tscKhz + " kHz is outside 0..2^32-1 (KVM's __u32)");
        }
    }

    /**
     * A state that does not say its TSC rate ({@link #TSC_KHZ_UNKNOWN}), as callers built before the rate was
     * saved make it: restored, its TSC runs at the host's rate. Pass the rate where it is known.
     */
    public VcpuState(List<CpuidEntry> cpuid, MpState mpState, Regs regs, Sregs sregs, Xsave xsave, Xcrs xcrs,
            DebugRegs debugRegs, LapicState lapic, List<MsrEntry> msrs, VcpuEvents events) {
        this(cpuid, mpState, regs, sregs, xsave, xcrs, debugRegs, lapic, msrs, events, TSC_KHZ_UNKNOWN);
    }

    /** This state with the TSC running at {@code khz}. */
    public VcpuState withTscKhz(long khz) {
        return new VcpuState(cpuid, mpState, regs, sregs, xsave, xcrs, debugRegs, lapic, msrs, events, khz);
    }
}
