package dev.thaw.emulated.cpu;

/**
 * Bit instructions (SDM vol. 2): BT, BTS, BTR, BTC (register and immediate bit offsets; a register offset
 * addresses a bit string in memory beyond the operand), BSF, BSR, TZCNT, LZCNT, POPCNT and BSWAP. BT*
 * change only CF; BSF/BSR leave the destination unchanged for a zero source (as AMD and QEMU do).
 */
final class BitOps {

    private static final int CF = 1, ZF = 0x40;

    private BitOps() {}

    /** 0F A3/AB/B3/BB (offset in a register) and 0F BA /4-/7 (offset in imm8). */
    static void bitTest(Cpu c, Insn i) {
        int size = i.opSize;
        int bits = size << 3;
        int kind; // 0 BT, 1 BTS, 2 BTR, 3 BTC
        long offset;
        boolean regOffset = i.op != 0x1ba;
        if (regOffset) {
            kind = switch (i.op) {
                case 0x1a3 -> 0;
                case 0x1ab -> 1;
                case 0x1b3 -> 2;
                default -> 3;
            };
            offset = Cpu.sext(Operands.readReg(c, i, size), size);
        } else {
            if ((i.reg & 7) < 4) {
                throw CpuException.ud();
            }
            kind = (i.reg & 7) - 4;
            offset = i.imm & (bits - 1);
        }
        int bit = (int) (offset & (bits - 1));
        if (i.mod == 3) {
            long v = c.reg(size, i.rm, i.hasRex);
            int old = (int) (v >>> bit) & 1;
            if (kind != 0) {
                c.setReg(size, i.rm, i.hasRex, apply(kind, v, bit));
            }
            Flags.replace(c, CF, old);
            return;
        }
        long ea = Operands.ea(c, i);
        if (regOffset) {
            ea += (offset >> (bits == 16 ? 4 : bits == 32 ? 5 : 6)) * size;
            ea &= Cpu.mask(i.addrSize);
        }
        if (kind == 0) {
            long v = Operands.readMem(c, i.seg, ea, size);
            Flags.replace(c, CF, (int) (v >>> bit) & 1);
            return;
        }
        long lin = Operands.linear(c, i.seg, ea, size, true);
        long v;
        if (i.lock()) {
            while (true) {
                v = c.mmu.rmwRead(lin, size, i.seg);
                if (c.mmu.rmwCas(v, apply(kind, v, bit) & Cpu.mask(size), size)) {
                    break;
                }
            }
        } else {
            v = c.mmu.rmwRead(lin, size, i.seg);
            c.mmu.rmwWrite(apply(kind, v, bit), size);
        }
        Flags.replace(c, CF, (int) (v >>> bit) & 1);
    }

    private static long apply(int kind, long v, int bit) {
        return switch (kind) {
            case 1 -> v | (1L << bit);
            case 2 -> v & ~(1L << bit);
            default -> v ^ (1L << bit);
        };
    }

    /** 0F BC: BSF, or TZCNT with F3 when enabled. */
    static void bsf(Cpu c, Insn i) {
        int size = i.opSize;
        long s = Operands.readRm(c, i, size);
        if ((i.prefix & Insn.P_REP) != 0 && c.owner.cpuid.bmi1) {
            long r = s == 0 ? size << 3 : Long.numberOfTrailingZeros(s);
            Operands.writeReg(c, i, size, r);
            Flags.set(c, (s == 0 ? CF : 0) | (r == 0 ? ZF : 0));
            return;
        }
        Flags.logic(c, s, size);
        if (s != 0) {
            Operands.writeReg(c, i, size, Long.numberOfTrailingZeros(s));
        }
    }

    /** 0F BD: BSR, or LZCNT with F3 when enabled. */
    static void bsr(Cpu c, Insn i) {
        int size = i.opSize;
        long s = Operands.readRm(c, i, size);
        int bits = size << 3;
        if ((i.prefix & Insn.P_REP) != 0 && c.owner.cpuid.lzcnt) {
            long r = s == 0 ? bits : Long.numberOfLeadingZeros(s) - (64 - bits);
            Operands.writeReg(c, i, size, r);
            Flags.set(c, (s == 0 ? CF : 0) | (r == 0 ? ZF : 0));
            return;
        }
        Flags.logic(c, s, size);
        if (s != 0) {
            Operands.writeReg(c, i, size, 63 - Long.numberOfLeadingZeros(s));
        }
    }

    /** F3 0F B8: POPCNT (#UD without F3 or when not enabled). */
    static void popcnt(Cpu c, Insn i) {
        if ((i.prefix & Insn.P_REP) == 0 || !c.owner.cpuid.popcnt) {
            throw CpuException.ud();
        }
        int size = i.opSize;
        long s = Operands.readRm(c, i, size);
        Operands.writeReg(c, i, size, Long.bitCount(s));
        Flags.set(c, s == 0 ? ZF : 0);
    }

    /** 0F C8+r: BSWAP (16-bit operand: the register's low word becomes 0, as Intel CPUs do). */
    static void bswap(Cpu c, Insn i) {
        int n = (i.op & 7) | ((i.rex & 1) << 3);
        switch (i.opSize) {
            case 8 -> c.r[n] = Long.reverseBytes(c.r[n]);
            case 4 -> c.r[n] = Integer.reverseBytes((int) c.r[n]) & 0xffff_ffffL;
            default -> c.r[n] &= ~0xffffL;
        }
    }
}
