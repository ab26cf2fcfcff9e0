package dev.thaw.kvm;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.DebugRegs;
import dev.thaw.api.state.Fpu;
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
import org.osgi.annotation.versioning.ProviderType;

/**
 * One vCPU. Its state can be read and written while the VM is not running (before
 * {@link VirtualMachine#start}, while paused, after it stopped); otherwise the accessors throw
 * {@link IllegalStateException}. KVM failures throw {@link KvmException}.
 */
@ProviderType
public interface Vcpu extends dev.thaw.api.runtime.Vcpu {


    /** The initial APIC ID (the KVM vCPU id); equal to {@link #index()}. */
    int apicId();

    /** KVM_GET_CPUID2. */
    List<CpuidEntry> cpuid();

    /** KVM_SET_CPUID2; once the vCPU has run, KVM accepts only an identical CPUID. */
    void setCpuid(List<CpuidEntry> entries);

    MpState mpState();

    void setMpState(MpState state);

    Regs regs();

    void setRegs(Regs regs);

    Sregs sregs();

    void setSregs(Sregs sregs);

    /** KVM_GET_FPU: the legacy x87/SSE view; the same state is in {@link #xsave()}. */
    Fpu fpu();

    void setFpu(Fpu fpu);

    /** KVM_GET_XSAVE2 at the size KVM_CAP_XSAVE2 reports, or KVM_GET_XSAVE where that capability is missing. */
    Xsave xsave();

    void setXsave(Xsave xsave);

    Xcrs xcrs();

    void setXcrs(Xcrs xcrs);

    DebugRegs debugRegs();

    void setDebugRegs(DebugRegs regs);

    LapicState lapic();

    void setLapic(LapicState lapic);

    /**
     * The saveable MSRs: those of KVM_GET_MSR_INDEX_LIST that this KVM can both read and write back
     * (found once per VM), in restore order.
     */
    List<MsrEntry> msrs();

    /** KVM_SET_MSRS of all {@code entries}; fails naming the first MSR KVM refused. */
    void setMsrs(List<MsrEntry> entries);

    VcpuEvents vcpuEvents();

    void setVcpuEvents(VcpuEvents events);

    /** Everything a snapshot needs, read in the order KVM needs (MP state first, vCPU events last). */
    @Override
    VcpuState saveState();

    /** Writes {@code state} back in the order KVM requires (CPUID first, vCPU events last). */
    @Override
    void restoreState(VcpuState state);
}
