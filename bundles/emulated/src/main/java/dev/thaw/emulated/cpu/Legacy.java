package dev.thaw.emulated.cpu;

/**
 * Instructions outside 64-bit mode only (SDM vol. 2): decimal arithmetic DAA, DAS, AAA, AAS, AAM, AAD,
 * and SALC, BOUND and ARPL. The decoder already rejects them in 64-bit mode (#UD).
 */
final class Legacy {

    private static final int CF = 1, AF = 0x10, OF = 0x800;

    private Legacy() {}

    private static int al(Cpu c) {
        return (int) c.r[Cpu.RAX] & 0xff;
    }

    private static void setAl(Cpu c, int v) {
        c.setReg(1, Cpu.RAX, false, v);
    }

    /** 27: DAA. */
    static void daa(Cpu c) {
        int old = al(c);
        int oldCf = Flags.cf(c);
        int al = old;
        int cf = 0;
        int af = 0;
        if ((al & 0xf) > 9 || Flags.af(c)) {
            al += 6;
            cf = oldCf | (al > 0xff ? 1 : 0);
            af = AF;
        }
        if (old > 0x99 || oldCf != 0) {
            al += 0x60;
            cf = 1;
        }
        al &= 0xff;
        setAl(c, al);
        Flags.result(c, al, 1, cf | af | (Flags.of(c) ? OF : 0));
    }

    /** 2F: DAS. */
    static void das(Cpu c) {
        int old = al(c);
        int oldCf = Flags.cf(c);
        int al = old;
        int cf = 0;
        int af = 0;
        if ((al & 0xf) > 9 || Flags.af(c)) {
            cf = oldCf | (al < 6 ? 1 : 0);
            al -= 6;
            af = AF;
        }
        if (old > 0x99 || oldCf != 0) {
            al -= 0x60;
            cf = 1;
        }
        al &= 0xff;
        setAl(c, al);
        Flags.result(c, al, 1, cf | af | (Flags.of(c) ? OF : 0));
    }

    /** 37 AAA and 3F AAS. */
    static void aaaAas(Cpu c, boolean add) {
        int ax = (int) c.r[Cpu.RAX] & 0xffff;
        int f = Flags.arith(c);
        if ((ax & 0xf) > 9 || (f & AF) != 0) {
            if (add) {
                ax += 0x106;
            } else {
                ax = (((ax >> 8) - 1) << 8 & 0xff00) | ((ax - 6) & 0xff);
            }
            f |= AF | CF;
        } else {
            f &= ~(AF | CF);
        }
        ax = (ax & 0xff00) | (ax & 0x0f);
        c.setReg(2, Cpu.RAX, false, ax);
        Flags.set(c, f);
    }

    /** D4 ib: AAM. */
    static void aam(Cpu c, Insn i) {
        int base = (int) i.imm & 0xff;
        if (base == 0) {
            throw CpuException.de();
        }
        int al = al(c);
        int r = al % base;
        c.setReg(2, Cpu.RAX, false, ((al / base) << 8) | r);
        Flags.result(c, r, 1, 0);
    }

    /** D5 ib: AAD. */
    static void aad(Cpu c, Insn i) {
        int base = (int) i.imm & 0xff;
        int ax = (int) c.r[Cpu.RAX] & 0xffff;
        int r = ((ax & 0xff) + (ax >> 8) * base) & 0xff;
        c.setReg(2, Cpu.RAX, false, r);
        Flags.result(c, r, 1, 0);
    }

    /** D6: SALC (AL = CF ? FF : 00). */
    static void salc(Cpu c) {
        setAl(c, Flags.cf(c) != 0 ? 0xff : 0);
    }

    /** 62: BOUND r, m (#BR when the signed index lies outside [lower, upper]). */
    static void bound(Cpu c, Insn i) {
        if (i.mod == 3) {
            throw CpuException.ud();
        }
        int size = i.opSize;
        long ea = Operands.ea(c, i);
        long lower = Cpu.sext(Operands.readMem(c, i.seg, ea, size), size);
        long upper = Cpu.sext(Operands.readMem(c, i.seg, (ea + size) & Cpu.mask(i.addrSize), size), size);
        long index = Cpu.sext(Operands.readReg(c, i, size), size);
        if (index < lower || index > upper) {
            throw new CpuException(CpuException.BR, CpuException.NO_ERROR);
        }
    }

    /** 63 outside 64-bit mode: ARPL r/m16, r16. */
    static void arpl(Cpu c, Insn i) {
        if (!c.protectedMode || (c.rflagsOther & Cpu.VM) != 0) {
            throw CpuException.ud();
        }
        long d = Operands.rmwRead(c, i, 2);
        long s = Operands.readReg(c, i, 2);
        boolean adjust = (d & 3) < (s & 3);
        Operands.rmwWrite(c, i, 2, adjust ? (d & ~3L) | (s & 3) : d);
        Flags.replace(c, 0x40, adjust ? 0x40 : 0);
    }
}
