package dev.thaw.machine.impl;

import dev.thaw.api.state.MpState;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuState;

/**
 * The test guest's boot protocol (guest/README.md, "vCPU state at entry"), as a state any runtime takes:
 * 32-bit protected mode without paging, CR0 = PE|ET (0x11), EFER 0, a flat 4 GiB code segment (selector
 * 0x08, type 0xb, D/B=1, G=1) and data segments (selector 0x10, type 3) in DS, ES, FS, GS and SS,
 * EIP = the image's entry, EBX = the boot parameters page, ESI = the vCPU index, RFLAGS = 2 (interrupts
 * off), every other general register 0, and every vCPU runnable (application processors too: the guest
 * never sends INIT/SIPI). GDTR, IDTR, TR, LDTR and everything else keep the runtime's reset values: the
 * guest loads its own.
 */
final class BootProtocol {

    private static final Segment CODE = new Segment(0, 0xffff_ffffL, 0x08, 0xb, 1, 0, 1, 1, 0, 1, 0, 0);
    private static final Segment DATA = new Segment(0, 0xffff_ffffL, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0);

    private BootProtocol() {}

    /** {@code reset} (a new vCPU's state) at the guest's entry point, as vCPU {@code index}. */
    static VcpuState entryState(VcpuState reset, int index) {
        Sregs r = reset.sregs();
        Sregs sregs = new Sregs(CODE, DATA, DATA, DATA, DATA, DATA, r.tr(), r.ldt(), r.gdt(), r.idt(),
                0x11, 0, 0, 0, 0, 0, r.apicBase(), new long[Sregs.INTERRUPT_BITMAP_WORDS]);
        Regs regs = new Regs(0, BootParameters.ADDRESS, 0, 0, index, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                GuestImage.ENTRY, Regs.RFLAGS_RESERVED_ONE);
        return new VcpuState(reset.cpuid(), MpState.RUNNABLE, regs, sregs, reset.xsave(), reset.xcrs(), reset.debugRegs(),
                reset.lapic(), reset.msrs(), reset.events(), reset.tscKhz());
    }
}
