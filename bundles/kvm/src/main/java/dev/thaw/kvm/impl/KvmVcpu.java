package dev.thaw.kvm.impl;

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
import dev.thaw.kvm.KvmException;
import dev.thaw.kvm.Vcpu;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.kvm.Kvm;
import dev.thaw.linux.kvm.VcpuFd;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A vCPU of a {@link KvmVm}: its fd, and state access that refuses while the guest runs. */
final class KvmVcpu implements Vcpu {

    private static final Logger LOG = LoggerFactory.getLogger(KvmVcpu.class);
    /**
     * Rates this close (parts per million) count as the same: TSC calibration differs by this much between
     * boots of one host, and KVM itself runs a requested rate within it unscaled (its tsc_tolerance_ppm).
     */
    static final long TSC_TOLERANCE_PPM = 250;

    private final KvmVm vm;
    private final int index;
    private final VcpuFd fd;
    /** Bytes of the XSAVE area per KVM_CAP_XSAVE2; 0 where only KVM_GET_XSAVE exists. */
    private final int xsave2Size;
    /** Names this vCPU in error messages. */
    private final String context;

    KvmVcpu(KvmVm vm, int index, VcpuFd fd, int xsave2Size) {
        this.vm = vm;
        this.index = index;
        this.fd = fd;
        this.xsave2Size = xsave2Size;
        this.context = "VM " + vm.name() + " vCPU " + index;
    }

    VcpuFd fd() {
        return fd;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public int apicId() {
        return fd.id();
    }

    @Override
    public List<CpuidEntry> cpuid() {
        return get("cpuid", () -> fd.getCpuid2(Kvm.MAX_CPUID_ENTRIES));
    }

    @Override
    public void setCpuid(List<CpuidEntry> entries) {
        set("cpuid", () -> fd.setCpuid2(entries));
    }

    @Override
    public MpState mpState() {
        return get("mp state", fd::getMpState);
    }

    @Override
    public void setMpState(MpState state) {
        set("mp state", () -> fd.setMpState(state));
    }

    @Override
    public Regs regs() {
        return get("regs", fd::getRegs);
    }

    @Override
    public void setRegs(Regs regs) {
        set("regs", () -> fd.setRegs(regs));
    }

    @Override
    public Sregs sregs() {
        return get("sregs", fd::getSregs);
    }

    @Override
    public void setSregs(Sregs sregs) {
        set("sregs", () -> fd.setSregs(sregs));
    }

    @Override
    public Fpu fpu() {
        return get("fpu", fd::getFpu);
    }

    @Override
    public void setFpu(Fpu fpu) {
        set("fpu", () -> fd.setFpu(fpu));
    }

    @Override
    public Xsave xsave() {
        return get("xsave", () -> xsave2Size > 0 ? fd.getXsave2(xsave2Size) : fd.getXsave());
    }

    @Override
    public void setXsave(Xsave xsave) {
        set("xsave", () -> fd.setXsave(xsave));
    }

    @Override
    public Xcrs xcrs() {
        return get("xcrs", fd::getXcrs);
    }

    @Override
    public void setXcrs(Xcrs xcrs) {
        set("xcrs", () -> fd.setXcrs(xcrs));
    }

    @Override
    public DebugRegs debugRegs() {
        return get("debug regs", fd::getDebugRegs);
    }

    @Override
    public void setDebugRegs(DebugRegs regs) {
        set("debug regs", () -> fd.setDebugRegs(regs));
    }

    @Override
    public LapicState lapic() {
        return get("lapic", fd::getLapic);
    }

    @Override
    public void setLapic(LapicState lapic) {
        set("lapic", () -> fd.setLapic(lapic));
    }

    @Override
    public List<MsrEntry> msrs() {
        long[] saveable = vm.saveableMsrs();
        List<MsrEntry> read = get("msrs", () -> fd.getMsrs(saveable));
        if (read.size() != saveable.length) {
            throw new KvmException(context + ": KVM_GET_MSRS read " + read.size() + " of " + saveable.length
                    + " saveable MSRs, stopping at MSR 0x" + Long.toHexString(saveable[read.size()]));
        }
        return read;
    }

    @Override
    public void setMsrs(List<MsrEntry> entries) {
        int n = get("msrs", () -> fd.setMsrs(entries));
        if (n != entries.size()) {
            throw new KvmException(context + ": KVM_SET_MSRS set " + n + " of " + entries.size()
                    + " MSRs, refusing " + entries.get(n));
        }
    }

    @Override
    public VcpuEvents vcpuEvents() {
        return get("vcpu events", fd::getVcpuEvents);
    }

    @Override
    public void setVcpuEvents(VcpuEvents events) {
        set("vcpu events", () -> fd.setVcpuEvents(events));
    }

    /** KVM_GET_TSC_KHZ: the rate of the TSC as the guest sees it; {@link VcpuState#TSC_KHZ_UNKNOWN} where KVM cannot say. */
    long tscKhz() {
        return vm.host().tscKhzReadable() ? get("TSC rate", fd::getTscKhz) : VcpuState.TSC_KHZ_UNKNOWN;
    }

    /**
     * Runs the guest's TSC at {@code saved} kHz where this host's rate differs (KVM_SET_TSC_KHZ), or refuses
     * with both rates where KVM cannot. A state that does not say its rate keeps the host's, as before Thaw
     * saved it.
     */
    private void restoreTscKhz(long saved) {
        if (saved == VcpuState.TSC_KHZ_UNKNOWN) {
            if (index == 0) {
                LOG.info("{}: the state does not say the guest's TSC rate (saved before Thaw recorded it): its TSC runs"
                        + " at this host's rate, {} kHz", "VM " + vm.name(), tscKhz());
            }
            return;
        }
        long here = tscKhz();
        if (here != VcpuState.TSC_KHZ_UNKNOWN && Math.abs(here - saved) * 1_000_000 <= saved * TSC_TOLERANCE_PPM) {
            return;
        }
        String rates = context + ": the snapshot's TSC runs at " + saved + " kHz, this host's at "
                + (here == VcpuState.TSC_KHZ_UNKNOWN ? "a rate KVM does not tell" : here + " kHz");
        if (!vm.host().tscControl()) {
            throw new KvmException(rates + ", and this KVM cannot run a guest's TSC at another rate (no KVM_CAP_TSC_CONTROL)");
        }
        vm.requireNotRunning("TSC rate", index);
        try {
            fd.setTscKhz(saved);
        } catch (ErrnoException e) {
            throw new KvmException(rates + ", and KVM cannot scale it to that: " + e.getMessage(), e);
        }
    }

    /**
     * Ordering (after Firecracker's save_state):
     * <ol>
     *   <li>MP state first: KVM_GET_MP_STATE runs kvm_apic_accept_events(), which may change vCPU and
     *       local APIC state that the later reads must see.</li>
     *   <li>regs, sregs, xsave, xcrs, debug regs, then the local APIC (KVM_GET_LAPIC may update the
     *       APIC state it returns), CPUID and MSRs.</li>
     *   <li>vCPU events last: the other GET ioctls may change pending-event state.</li>
     * </ol>
     */
    @Override
    public VcpuState saveState() {
        vm.requireNotRunning("save the state", index);
        MpState mpState = mpState();
        Regs regs = regs();
        Sregs sregs = sregs();
        Xsave xsave = xsave();
        Xcrs xcrs = xcrs();
        DebugRegs debugRegs = debugRegs();
        LapicState lapic = lapic();
        List<CpuidEntry> cpuid = cpuid();
        List<MsrEntry> msrs = msrs();
        VcpuEvents events = vcpuEvents();
        return new VcpuState(cpuid, mpState, regs, sregs, xsave, xcrs, debugRegs, lapic, msrs, events, tscKhz());
    }

    /**
     * Ordering (KVM's requirements, as Firecracker's restore_state documents them):
     * <ol>
     *   <li>The TSC rate before anything: KVM turns the TSC value among the MSRs into an offset at the rate in
     *       force, and a refusal (the rate cannot be had here) comes before any state is written.</li>
     *   <li>CPUID: it decides which features, MSRs and XSAVE components the rest may use.</li>
     *   <li>MP state.</li>
     *   <li>regs before vCPU events: KVM_SET_REGS clears a pending exception, which the events restore.</li>
     *   <li>sregs, then xsave, xcrs and debug regs.</li>
     *   <li>LAPIC after sregs: KVM_SET_SREGS writes the APIC base MSR that enables the local APIC.</li>
     *   <li>MSRs after the LAPIC: MSR_IA32_TSC_DEADLINE only takes when the LAPIC timer is in TSC-deadline
     *       mode; within the MSRs, TSC_DEADLINE comes after TSC (see {@link SaveableMsrs}).</li>
     *   <li>vCPU events last: pending exceptions, interrupts and NMIs go on top of everything else.</li>
     * </ol>
     */
    @Override
    public void restoreState(VcpuState state) {
        vm.requireNotRunning("restore the state", index);
        restoreTscKhz(state.tscKhz());
        setCpuid(state.cpuid());
        setMpState(state.mpState());
        setRegs(state.regs());
        setSregs(state.sregs());
        setXsave(state.xsave());
        setXcrs(state.xcrs());
        setDebugRegs(state.debugRegs());
        setLapic(state.lapic());
        setMsrs(state.msrs());
        setVcpuEvents(state.events());
    }

    private <T> T get(String what, Supplier<T> call) {
        vm.requireNotRunning(what, index);
        return KvmCalls.call(context, null, call);
    }

    private void set(String what, Runnable call) {
        vm.requireNotRunning(what, index);
        KvmCalls.run(context, null, call);
    }
}
