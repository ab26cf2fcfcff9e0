package dev.thaw.emulated.cpu;

/**
 * Exchanges (SDM vol. 1, 7.3.1.2): XCHG (always atomic with a memory operand), CMPXCHG, XADD,
 * CMPXCHG8B and CMPXCHG16B. With LOCK (or XCHG's implicit lock) the memory update is a compare-and-set
 * on guest memory, atomic across vCPUs; CMPXCHG16B holds the global split lock instead (atomic against
 * other locked 16-byte and split operations only: see {@link Mmu}, "Locked operations").
 */
final class Exchange {

    private static final int ZF = 0x40;

    private Exchange() {}

    /** 86, 87: XCHG r/m, reg. */
    static void xchg(Cpu c, Insn i) {
        int size = i.op == 0x86 ? 1 : i.opSize;
        long r = Operands.readReg(c, i, size);
        if (i.mod == 3) {
            long m = c.reg(size, i.rm, i.hasRex);
            c.setReg(size, i.rm, i.hasRex, r);
            Operands.writeReg(c, i, size, m);
            return;
        }
        long lin = Operands.lin(c, i, size, true);
        long old;
        do {
            old = c.mmu.rmwRead(lin, size, i.seg);
        } while (!c.mmu.rmwCas(old, r & Cpu.mask(size), size));
        Operands.writeReg(c, i, size, old);
    }

    /** 91-97 (and 90 with REX.B): XCHG rAX, reg. */
    static void xchgAcc(Cpu c, Insn i) {
        int n = (i.op & 7) | ((i.rex & 1) << 3);
        int size = i.opSize;
        long a = c.reg(size, Cpu.RAX, false);
        long b = c.reg(size, n, false);
        c.setReg(size, Cpu.RAX, false, b);
        c.setReg(size, n, false, a);
    }

    /** 0F B0, 0F B1: CMPXCHG r/m, reg. */
    static void cmpxchg(Cpu c, Insn i) {
        int size = i.op == 0x1b0 ? 1 : i.opSize;
        long acc = c.reg(size, Cpu.RAX, false);
        long src = Operands.readReg(c, i, size);
        long mask = Cpu.mask(size);
        long dst;
        if (i.mod == 3) {
            dst = c.reg(size, i.rm, i.hasRex);
            Arith.compute(c, Arith.CMP, acc, dst, size);
            if (acc == dst) {
                c.setReg(size, i.rm, i.hasRex, src);
            } else {
                c.setReg(size, Cpu.RAX, false, dst);
            }
            return;
        }
        long lin = Operands.lin(c, i, size, true);
        if (i.lock()) {
            while (true) {
                dst = c.mmu.rmwRead(lin, size, i.seg);
                if (dst != acc) {
                    break;
                }
                if (c.mmu.rmwCas(dst, src & mask, size)) {
                    break;
                }
            }
        } else {
            dst = c.mmu.rmwRead(lin, size, i.seg);
            c.mmu.rmwWrite(dst == acc ? src : dst, size);
        }
        Arith.compute(c, Arith.CMP, acc, dst, size);
        if (acc != dst) {
            c.setReg(size, Cpu.RAX, false, dst);
        }
    }

    /** 0F C0, 0F C1: XADD r/m, reg. */
    static void xadd(Cpu c, Insn i) {
        int size = i.op == 0x1c0 ? 1 : i.opSize;
        long src = Operands.readReg(c, i, size);
        if (i.mod == 3) {
            long dst = c.reg(size, i.rm, i.hasRex);
            long sum = Arith.compute(c, Arith.ADD, dst, src, size);
            Operands.writeReg(c, i, size, dst);
            c.setReg(size, i.rm, i.hasRex, sum);
            return;
        }
        long lin = Operands.lin(c, i, size, true);
        long dst;
        long sum;
        if (i.lock()) {
            while (true) {
                dst = c.mmu.rmwRead(lin, size, i.seg);
                sum = (dst + src) & Cpu.mask(size);
                if (c.mmu.rmwCas(dst, sum, size)) {
                    break;
                }
            }
        } else {
            dst = c.mmu.rmwRead(lin, size, i.seg);
            sum = dst + src;
            c.mmu.rmwWrite(sum, size);
        }
        Flags.add(c, dst, src, sum, size);
        Operands.writeReg(c, i, size, dst);
    }

    /** 0F C7 /1: CMPXCHG8B m64, or CMPXCHG16B m128 with REX.W. */
    static void cmpxchg8b(Cpu c, Insn i) {
        if (i.mod == 3) {
            throw CpuException.ud();
        }
        if ((i.rex & 8) != 0) {
            cmpxchg16b(c, i);
            return;
        }
        long lin = Operands.lin(c, i, 8, true);
        long expect = ((c.r[Cpu.RDX] & 0xffff_ffffL) << 32) | (c.r[Cpu.RAX] & 0xffff_ffffL);
        long update = ((c.r[Cpu.RCX] & 0xffff_ffffL) << 32) | (c.r[Cpu.RBX] & 0xffff_ffffL);
        long old;
        boolean equal;
        while (true) {
            old = c.mmu.rmwRead(lin, 8, i.seg);
            equal = old == expect;
            if (!i.lock()) {
                c.mmu.rmwWrite(equal ? update : old, 8);
                break;
            }
            if (!equal || c.mmu.rmwCas(old, update, 8)) {
                break;
            }
        }
        Flags.replace(c, ZF, equal ? ZF : 0);
        if (!equal) {
            c.r[Cpu.RAX] = old & 0xffff_ffffL;
            c.r[Cpu.RDX] = old >>> 32;
        }
    }

    private static void cmpxchg16b(Cpu c, Insn i) {
        long ea = Operands.ea(c, i);
        if (!c.owner.cpuid.cx16 || (ea & 15) != 0) {
            if (!c.owner.cpuid.cx16) {
                throw CpuException.ud();
            }
            throw CpuException.gp0();
        }
        long lin = Operands.linear(c, i.seg, ea, 16, true);
        long lo;
        long hi;
        boolean equal;
        synchronized (Mmu.SPLIT_LOCK) {
            // both halves checked for writing before either is read
            c.mmu.rmwRead(lin + 8, 8, i.seg);
            lo = c.mmu.rmwRead(lin, 8, i.seg);
            hi = c.mmu.read(lin + 8, 8, i.seg);
            equal = lo == c.r[Cpu.RAX] && hi == c.r[Cpu.RDX];
            c.mmu.write(lin, 8, equal ? c.r[Cpu.RBX] : lo, i.seg);
            c.mmu.write(lin + 8, 8, equal ? c.r[Cpu.RCX] : hi, i.seg);
        }
        Flags.replace(c, ZF, equal ? ZF : 0);
        if (!equal) {
            c.r[Cpu.RAX] = lo;
            c.r[Cpu.RDX] = hi;
        }
    }
}
