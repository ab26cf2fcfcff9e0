package dev.thaw.emulated.cpu;

import java.util.Arrays;

/**
 * The power-up and INIT states of a vCPU (SDM vol. 3A, 9.1.1 and table 9-1, as KVM's
 * {@code kvm_vcpu_reset} makes them): real mode at F000:FFF0 with CS based at 0xFFFF0000, the other
 * segments at 0 with 64 KiB limits, GDTR and IDTR at 0 with limit 0xFFFF, general registers 0 but RDX (the
 * family, model and stepping of CPUID leaf 1 EAX), RFLAGS 2, CR0 = CD|NW|ET, CR2, CR3, CR4 and EFER 0, DR6
 * and DR7 at their reset values. INIT keeps CR0.CD and CR0.NW, the MSRs other than EFER, and x87/SSE
 * state; power-up sets everything. Both drop pending events and flush the TLB.
 */
final class Reset {

    private static final long CR0_CACHE = Cpu.CR0_CD | Cpu.CR0_NW;

    private Reset() {}

    /** The state after power-up ({@code init} false) or after an INIT ({@code init} true). */
    static void apply(Interpreter cpu, boolean init) {
        Cpu c = cpu.c;
        long[] signature = new long[4];
        cpu.cpuid.query(1, 0, signature);
        Arrays.fill(c.r, 0);
        c.r[Cpu.RDX] = signature[0] & 0xffff_ffffL;
        c.rip = 0xfff0;
        c.setRflags(2);
        for (int s = 0; s < 6; s++) {
            c.segSel[s] = 0;
            c.segBase[s] = 0;
            c.segLimit[s] = 0xffff;
            c.segAttr[s] = Cpu.A_P | Cpu.A_S | (s == Cpu.CS ? 0xb : 3);
        }
        c.segSel[Cpu.CS] = 0xf000;
        c.segBase[Cpu.CS] = 0xffff_0000L;
        system(c, Cpu.LDTR, 0x2);
        system(c, Cpu.TR, 0xb);
        c.gdtBase = 0;
        c.gdtLimit = 0xffff;
        c.idtBase = 0;
        c.idtLimit = 0xffff;
        c.cr0 = Cpu.CR0_ET | (init ? c.cr0 & CR0_CACHE : CR0_CACHE);
        c.cr2 = 0;
        c.cr3 = 0;
        c.cr4 = 0;
        c.efer = 0;
        Arrays.fill(c.dr, 0, 4, 0);
        c.dr[6] = 0xffff_0ff0L;
        c.dr[7] = 0x400;
        c.setCpl(0);
        c.shadow = 0;
        c.updateMode();
        cpu.dropEvents();
        cpu.mmu.flushAll();
        c.checkInterrupts = true;
    }

    private static void system(Cpu c, int seg, int type) {
        c.segSel[seg] = 0;
        c.segBase[seg] = 0;
        c.segLimit[seg] = 0xffff;
        c.segAttr[seg] = Cpu.A_P | type;
    }

    /** A start-up IPI's entry: real mode at {@code vector} * 0x100 : 0, the rest as INIT left it. */
    static void startAt(Cpu c, int vector) {
        c.segSel[Cpu.CS] = (vector & 0xff) << 8;
        c.segBase[Cpu.CS] = (long) (vector & 0xff) << 12;
        c.rip = 0;
        c.updateMode();
    }
}
