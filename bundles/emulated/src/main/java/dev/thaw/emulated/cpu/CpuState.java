package dev.thaw.emulated.cpu;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.DebugRegs;
import dev.thaw.api.state.LapicState;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuEvents;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.Xcrs;
import dev.thaw.api.state.Xsave;
import java.util.List;
import java.util.Objects;

/**
 * A vCPU's state as an {@link Interpreter} exports and imports it: a {@link VcpuState} without the local
 * APIC (which the runtime's interrupt controller owns). Plain values only.
 *
 * @param cpuid the CPUID table the vCPU answers from
 * @param msrs the saveable MSRs in restore order (see {@link Interpreter#exportState()})
 * @param xsave x87/SSE/AVX state: not used by the interpreter, carried through unchanged
 * @param xcrs carried through unchanged
 * @param tscKhz the rate the TSC counts at, in kHz; {@link VcpuState#TSC_KHZ_UNKNOWN}: the interpreter's own
 */
public record CpuState(
        List<CpuidEntry> cpuid, MpState mpState, Regs regs, Sregs sregs, Xsave xsave, Xcrs xcrs,
        DebugRegs debugRegs, List<MsrEntry> msrs, VcpuEvents events, long tscKhz) {

    public CpuState {
        cpuid = List.copyOf(cpuid);
        msrs = List.copyOf(msrs);
        Objects.requireNonNull(mpState, "mpState");
        Objects.requireNonNull(regs, "regs");
        Objects.requireNonNull(sregs, "sregs");
        Objects.requireNonNull(xsave, "xsave");
        Objects.requireNonNull(xcrs, "xcrs");
        Objects.requireNonNull(debugRegs, "debugRegs");
        Objects.requireNonNull(events, "events");
    }

    /** A state whose TSC runs at the interpreter's own rate. */
    public CpuState(List<CpuidEntry> cpuid, MpState mpState, Regs regs, Sregs sregs, Xsave xsave, Xcrs xcrs,
            DebugRegs debugRegs, List<MsrEntry> msrs, VcpuEvents events) {
        this(cpuid, mpState, regs, sregs, xsave, xcrs, debugRegs, msrs, events, VcpuState.TSC_KHZ_UNKNOWN);
    }

    /** The CPU part of a snapshot's vCPU state. */
    public static CpuState of(VcpuState s) {
        return new CpuState(s.cpuid(), s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(), s.debugRegs(),
                s.msrs(), s.events(), s.tscKhz());
    }

    /** A snapshot's vCPU state: this and the local APIC's. */
    public VcpuState withLapic(LapicState lapic) {
        return new VcpuState(cpuid, mpState, regs, sregs, xsave, xcrs, debugRegs, lapic, msrs, events, tscKhz);
    }
}
