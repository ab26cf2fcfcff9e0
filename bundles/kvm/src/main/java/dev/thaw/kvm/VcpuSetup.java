package dev.thaw.kvm;

import dev.thaw.api.state.MpState;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import org.osgi.annotation.versioning.ConsumerType;

/** Sets up the initial state of each new vCPU (after its CPUID is set, before it first runs). */
@ConsumerType
@FunctionalInterface
public interface VcpuSetup {

    void configure(Vcpu vcpu);

    /** Leaves KVM's reset state (real mode at 0xfffffff0; application processors wait for INIT/SIPI). */
    static VcpuSetup none() {
        return vcpu -> {};
    }

    /**
     * 32-bit protected mode without paging, as the Thaw test guest expects: CR0 = PE|ET (0x11), EFER 0,
     * flat 4 GiB code segment (selector 0x08, type 0xb, D/B=1, G=1) and data segments (selector 0x10,
     * type 3) in DS, ES, FS, GS and SS, EIP = {@code entryPoint}, EBX = {@code ebx}, ESI = the vCPU index,
     * RFLAGS = 2 (interrupts off), every other general register 0, and MP state RUNNABLE on every vCPU
     * (application processors too). GDTR, IDTR, TR and LDTR keep KVM's reset values: the guest loads its own.
     */
    static VcpuSetup protectedMode32(long entryPoint, long ebx) {
        return vcpu -> {
            Sregs reset = vcpu.sregs();
            Segment code = new Segment(0, 0xffff_ffffL, 0x08, 0xb, 1, 0, 1, 1, 0, 1, 0, 0);
            Segment data = new Segment(0, 0xffff_ffffL, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0);
            vcpu.setSregs(new Sregs(code, data, data, data, data, data, reset.tr(), reset.ldt(), reset.gdt(),
                    reset.idt(), 0x11, 0, 0, 0, 0, 0, reset.apicBase(), new long[Sregs.INTERRUPT_BITMAP_WORDS]));
            vcpu.setRegs(new Regs(0, ebx, 0, 0, vcpu.index(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    entryPoint, Regs.RFLAGS_RESERVED_ONE));
            vcpu.setMpState(MpState.RUNNABLE);
        };
    }
}
