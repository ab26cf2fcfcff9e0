package dev.thaw.emulated.cpu;

/**
 * SYSCALL/SYSRET (STAR, LSTAR, SFMASK; 64-bit mode only, as on Intel CPUs) and SYSENTER/SYSEXIT
 * (SYSENTER_CS/ESP/EIP), which load flat segments without reading descriptors (SDM vol. 2).
 */
final class FastSystemCall {

    private FastSystemCall() {}

    /** Loads a flat 4 GiB segment without a descriptor, as these instructions do. */
    static void flat(Cpu c, int seg, int sel, int type, int dpl, boolean l, boolean db) {
        c.segSel[seg] = sel & 0xffff;
        c.segBase[seg] = 0;
        c.segLimit[seg] = 0xffff_ffffL;
        c.segAttr[seg] = type | Cpu.A_S | (dpl << Cpu.A_DPL_SHIFT) | Cpu.A_P | Cpu.A_G | (l ? Cpu.A_L : 0)
                | (db ? Cpu.A_DB : 0);
    }

    /** 0F 05: SYSCALL. */
    static void syscall(Cpu c) {
        if ((c.efer & Cpu.EFER_SCE) == 0 || !c.mode64) {
            throw CpuException.ud();
        }
        Msrs m = c.owner.msrs;
        c.r[Cpu.RCX] = c.rip;
        c.r[Cpu.R11] = c.rflags() & ~Cpu.RF;
        int sel = (int) (m.star >>> 32) & 0xffff;
        flat(c, Cpu.CS, sel & 0xfffc, 0xb, 0, true, false);
        flat(c, Cpu.SS, (sel + 8) & 0xfffc, 0x3, 0, false, true);
        c.setRflags(c.rflags() & ~m.sfmask & ~Cpu.RF);
        c.setCpl(0);
        c.rip = m.lstar;
        c.updateMode();
    }

    /** 0F 07: SYSRET (REX.W: to 64-bit code, else to 32-bit compatibility mode). */
    static void sysret(Cpu c, Insn i) {
        if ((c.efer & Cpu.EFER_SCE) == 0 || !c.mode64) {
            throw CpuException.ud();
        }
        if (c.cpl != 0) {
            throw CpuException.gp0();
        }
        Msrs m = c.owner.msrs;
        int sel = (int) (m.star >>> 48) & 0xffff;
        long target;
        if ((i.rex & 8) != 0) {
            target = c.r[Cpu.RCX];
            if (((target << 16) >> 16) != target) {
                throw CpuException.gp0();
            }
            flat(c, Cpu.CS, (sel + 16) | 3, 0xb, 3, true, false);
        } else {
            target = c.r[Cpu.RCX] & 0xffff_ffffL;
            flat(c, Cpu.CS, sel | 3, 0xb, 3, false, true);
        }
        flat(c, Cpu.SS, (sel + 8) | 3, 0x3, 3, false, true);
        long old = c.rflags();
        c.setRflags((c.r[Cpu.R11] & 0x3c_7fd7L) | 2);
        if ((c.rflagsOther & Cpu.IF) != 0 && (old & Cpu.IF) == 0) {
            c.checkInterrupts = true;
        }
        c.setCpl(3);
        c.rip = target;
        c.updateMode();
    }

    /** 0F 34: SYSENTER. */
    static void sysenter(Cpu c) {
        Msrs m = c.owner.msrs;
        if (!c.protectedMode || (m.sysenterCs & 0xfffc) == 0) {
            throw CpuException.gp0();
        }
        c.rflagsOther &= ~(Cpu.VM | Cpu.IF | Cpu.RF);
        int sel = (int) m.sysenterCs & 0xfffc;
        flat(c, Cpu.CS, sel, 0xb, 0, c.longMode, !c.longMode);
        flat(c, Cpu.SS, sel + 8, 0x3, 0, false, true);
        c.setCpl(0);
        c.updateMode();
        c.r[Cpu.RSP] = c.longMode ? m.sysenterEsp : m.sysenterEsp & 0xffff_ffffL;
        c.rip = c.longMode ? m.sysenterEip : m.sysenterEip & 0xffff_ffffL;
    }

    /** 0F 35: SYSEXIT (REX.W: to 64-bit code). */
    static void sysexit(Cpu c, Insn i) {
        Msrs m = c.owner.msrs;
        if (!c.protectedMode || c.cpl != 0 || (m.sysenterCs & 0xfffc) == 0) {
            throw CpuException.gp0();
        }
        int sel = (int) m.sysenterCs & 0xfffc;
        boolean to64 = (i.rex & 8) != 0;
        long rip = to64 ? c.r[Cpu.RDX] : c.r[Cpu.RDX] & 0xffff_ffffL;
        long rsp = to64 ? c.r[Cpu.RCX] : c.r[Cpu.RCX] & 0xffff_ffffL;
        if (to64 && (((rip << 16) >> 16) != rip || ((rsp << 16) >> 16) != rsp)) {
            throw CpuException.gp0();
        }
        flat(c, Cpu.CS, (sel + (to64 ? 32 : 16)) | 3, 0xb, 3, to64, !to64);
        flat(c, Cpu.SS, (sel + (to64 ? 40 : 24)) | 3, 0x3, 3, false, true);
        c.setCpl(3);
        c.updateMode();
        c.r[Cpu.RSP] = rsp;
        c.rip = rip;
    }
}
