package dev.thaw.emulated.cpu;

import dev.thaw.api.state.DebugRegs;
import dev.thaw.api.state.DescriptorTable;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuEvents;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.Xcr;
import dev.thaw.api.state.Xcrs;
import dev.thaw.api.state.Xsave;
import java.util.List;

/**
 * State export and import in KVM's terms ({@link CpuState}). Exported at an instruction boundary, a state
 * imported into a fresh interpreter continues exactly where the exporter stopped.
 *
 * <p>Ordering (import): CPUID first (it decides the physical address width, NX, 1 GiB pages and which CR4
 * and EFER bits exist); then Sregs (control registers, EFER, segments; the mode follows); then the TSC rate
 * (the TSC among the MSRs counts on from its value at that rate); then the MSRs
 * (some, like EFER or FS_BASE, may repeat Sregs values and win); then Regs (RFLAGS after the mode);
 * then the debug registers, MP state and VcpuEvents (pending events, interrupt shadow) last; the TLB is
 * flushed at the end. CR8 goes to {@link InterruptSource#setTaskPriority}: restore the local APIC after
 * the CPU, as KVM orders SET_LAPIC after SET_SREGS. The APIC base is exported from
 * {@link InterruptSource#apicBaseMsr()} and not imported: the runtime restores it with the local APIC.
 *
 * <p>NMIs: a pending NMI (taken from the InterruptSource, not yet delivered) and NMI blocking (delivered,
 * no IRET yet) travel in VcpuEvents' NMI part; an injected NMI comes back as pending. SMM is not modeled:
 * its part is exported as zero. Xsave and Xcrs are carried through unchanged.
 */
final class StateIo {

    /** {@code KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW}. */
    private static final long EVENT_FLAGS = 0x1 | 0x4;

    private final Interpreter owner;
    private final Cpu c;
    private Xsave xsave = defaultXsave();
    private Xcrs xcrs = new Xcrs(0, List.of(new Xcr(0, 1)));

    StateIo(Interpreter owner) {
        this.owner = owner;
        this.c = owner.c;
    }

    /** FXSAVE area after reset: FCW 0x37F, MXCSR 0x1F80; XSTATE_BV = x87. */
    private static Xsave defaultXsave() {
        byte[] b = new byte[Xsave.LEGACY_BYTES];
        b[0] = 0x7f;
        b[1] = 0x03;
        b[24] = (byte) 0x80;
        b[25] = 0x1f;
        b[512] = 1;
        return new Xsave(b);
    }

    CpuState export() {
        long[] r = c.r;
        Regs regs = new Regs(r[0], r[3], r[1], r[2], r[6], r[7], r[4], r[5], r[8], r[9], r[10], r[11], r[12], r[13],
                r[14], r[15], c.rip, c.rflags());
        long[] bitmap = new long[Sregs.INTERRUPT_BITMAP_WORDS];
        boolean injectedIrq = owner.events.injectedVector >= 0 && owner.events.injectedKind == Interrupts.EXTERNAL;
        if (injectedIrq) {
            bitmap[owner.events.injectedVector >>> 6] |= 1L << (owner.events.injectedVector & 63);
        }
        Sregs sregs = new Sregs(seg(Cpu.CS), seg(Cpu.DS), seg(Cpu.ES), seg(Cpu.FS), seg(Cpu.GS), seg(Cpu.SS),
                seg(Cpu.TR), seg(Cpu.LDTR), new DescriptorTable(c.gdtBase, c.gdtLimit),
                new DescriptorTable(c.idtBase, c.idtLimit), c.cr0, c.cr2, c.cr3, c.cr4,
                c.irq.taskPriority() & 0xf, c.efer, c.irq.apicBaseMsr(), bitmap);
        boolean injectedException = owner.events.injectedVector >= 0 && owner.events.injectedKind == Interrupts.EXCEPTION;
        VcpuEvents.ExceptionState exception = injectedException
                ? new VcpuEvents.ExceptionState(0, owner.events.injectedVector, owner.events.injectedError >= 0 ? 1 : 0, 1,
                        Math.max(owner.events.injectedError, 0))
                : new VcpuEvents.ExceptionState(0, 0, 0, 0, 0);
        boolean injectedSoft = owner.events.injectedVector >= 0 && owner.events.injectedKind == Interrupts.SOFTWARE;
        VcpuEvents.InterruptState interrupt = new VcpuEvents.InterruptState(injectedIrq || injectedSoft ? 1 : 0,
                injectedIrq || injectedSoft ? owner.events.injectedVector : 0, injectedSoft ? 1 : 0, c.shadow);
        VcpuEvents.NmiState nmi = new VcpuEvents.NmiState(0, owner.events.nmiPending ? 1 : 0, c.nmiBlocked ? 1 : 0);
        VcpuEvents events = new VcpuEvents(exception, interrupt, nmi, 0, EVENT_FLAGS, new VcpuEvents.SmiState(0, 0, 0, 0),
                0, 0, 0);
        DebugRegs dr = new DebugRegs(c.dr[0], c.dr[1], c.dr[2], c.dr[3], c.dr[6], c.dr[7], 0);
        MpState mp = owner.sipiWait != null ? owner.sipiWait : owner.halted ? MpState.HALTED : MpState.RUNNABLE;
        return new CpuState(owner.cpuid.table(), mp, regs, sregs, xsave, xcrs, dr, owner.msrs.exportMsrs(), events,
                owner.msrs.tscKhz());
    }

    private Segment seg(int s) {
        int a = c.segAttr[s];
        return new Segment(c.segBase[s], c.segLimit[s], c.segSel[s], a & 0xf, (a >>> 7) & 1,
                (a >>> Cpu.A_DPL_SHIFT) & 3, (a >>> 14) & 1, (a >>> 4) & 1, (a >>> 13) & 1, (a >>> 15) & 1,
                (a >>> 12) & 1, (a >>> 16) & 1);
    }

    private void setSeg(int s, Segment g) {
        c.segSel[s] = g.selector() & 0xffff;
        c.segBase[s] = g.base();
        c.segLimit[s] = g.limit() & 0xffff_ffffL;
        c.segAttr[s] = (g.type() & 0xf) | (g.s() & 1) << 4 | (g.dpl() & 3) << Cpu.A_DPL_SHIFT | (g.present() & 1) << 7
                | (g.avl() & 1) << 12 | (g.l() & 1) << 13 | (g.db() & 1) << 14 | (g.g() & 1) << 15
                | (g.unusable() & 1) << 16;
    }

    void importState(CpuState s) {
        // Ordering: CPUID, Sregs, MSRs, Regs, debug registers, MP state, events (see the class comment).
        owner.cpuid.set(s.cpuid().isEmpty() ? owner.cpuid.table() : s.cpuid());
        Sregs sr = s.sregs();
        setSeg(Cpu.CS, sr.cs());
        setSeg(Cpu.DS, sr.ds());
        setSeg(Cpu.ES, sr.es());
        setSeg(Cpu.FS, sr.fs());
        setSeg(Cpu.GS, sr.gs());
        setSeg(Cpu.SS, sr.ss());
        setSeg(Cpu.TR, sr.tr());
        setSeg(Cpu.LDTR, sr.ldt());
        c.gdtBase = sr.gdt().base();
        c.gdtLimit = sr.gdt().limit() & 0xffff;
        c.idtBase = sr.idt().base();
        c.idtLimit = sr.idt().limit() & 0xffff;
        c.cr0 = sr.cr0() | Cpu.CR0_ET;
        c.cr2 = sr.cr2();
        c.cr3 = sr.cr3();
        c.cr4 = sr.cr4();
        c.efer = sr.efer();
        c.irq.setTaskPriority((int) sr.cr8() & 0xf);
        owner.msrs.setTscKhz(s.tscKhz() == VcpuState.TSC_KHZ_UNKNOWN ? Msrs.DEFAULT_TSC_KHZ : s.tscKhz());
        owner.msrs.importMsrs(s.msrs());
        c.updateMode();
        // CPL is SS.DPL in protected mode, as KVM and VMX have it
        c.setCpl(c.protectedMode ? (c.segAttr[Cpu.SS] >>> Cpu.A_DPL_SHIFT) & 3 : 0);
        if ((c.rflagsOther & Cpu.VM) != 0) {
            c.setCpl(3);
        }
        Regs r = s.regs();
        long[] g = c.r;
        g[0] = r.rax();
        g[1] = r.rcx();
        g[2] = r.rdx();
        g[3] = r.rbx();
        g[4] = r.rsp();
        g[5] = r.rbp();
        g[6] = r.rsi();
        g[7] = r.rdi();
        g[8] = r.r8();
        g[9] = r.r9();
        g[10] = r.r10();
        g[11] = r.r11();
        g[12] = r.r12();
        g[13] = r.r13();
        g[14] = r.r14();
        g[15] = r.r15();
        c.rip = r.rip();
        c.setRflags(r.rflags() | 2);
        DebugRegs d = s.debugRegs();
        c.dr[0] = d.db0();
        c.dr[1] = d.db1();
        c.dr[2] = d.db2();
        c.dr[3] = d.db3();
        c.dr[6] = d.dr6();
        c.dr[7] = d.dr7();
        importMpState(s.mpState().state());
        xsave = s.xsave();
        xcrs = s.xcrs();
        importEvents(s.events(), sr.interruptBitmap());
        owner.applyCpuid();
        c.checkInterrupts = true;
    }

    /** SIPI_RECEIVED (a start-up IPI not yet taken) comes back as INIT_RECEIVED: its vector is not in the state. */
    private void importMpState(long mp) {
        owner.halted = mp == MpState.HALTED.state();
        if (mp == MpState.UNINITIALIZED.state()) {
            owner.sipiWait = MpState.UNINITIALIZED;
        } else if (mp == MpState.INIT_RECEIVED.state() || mp == MpState.SIPI_RECEIVED.state()) {
            owner.sipiWait = MpState.INIT_RECEIVED;
        } else {
            owner.sipiWait = null;
        }
    }

    private void importEvents(VcpuEvents e, long[] bitmap) {
        owner.events.injectedVector = -1;
        owner.events.injectedError = CpuException.NO_ERROR;
        c.shadow = e.interrupt().shadow() & 3;
        owner.events.nmiPending = e.nmi().injected() != 0 || e.nmi().pending() != 0;
        c.nmiBlocked = e.nmi().masked() != 0 && e.nmi().injected() == 0; // an injected one is delivered again
        VcpuEvents.ExceptionState x = e.exception();
        if (x.injected() != 0 || x.pending() != 0) {
            owner.events.injectedVector = x.nr();
            owner.events.injectedKind = Interrupts.EXCEPTION;
            owner.events.injectedError = x.hasErrorCode() != 0 ? (int) x.errorCode() : CpuException.NO_ERROR;
            if (e.exceptionHasPayload() != 0 && x.nr() == CpuException.PF) {
                c.cr2 = e.exceptionPayload();
            }
            return;
        }
        if (e.interrupt().injected() != 0) {
            owner.events.injectedVector = e.interrupt().nr() & 0xff;
            owner.events.injectedKind = e.interrupt().soft() != 0 ? Interrupts.SOFTWARE : Interrupts.EXTERNAL;
            return;
        }
        for (int w = 0; w < bitmap.length; w++) {
            if (bitmap[w] != 0) {
                owner.events.injectedVector = w * 64 + Long.numberOfTrailingZeros(bitmap[w]);
                owner.events.injectedKind = Interrupts.EXTERNAL;
                return;
            }
        }
    }
}
