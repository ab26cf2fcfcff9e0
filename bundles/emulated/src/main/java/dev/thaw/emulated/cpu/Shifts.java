package dev.thaw.emulated.cpu;

/**
 * Shifts and rotates (SDM vol. 2, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD). The count is masked to 5
 * bits (6 for 64-bit operands); a masked count of 0 changes nothing, flags included. RCL/RCR of 8 and 16
 * bits rotate through CF modulo 9 and 17. Flags the SDM leaves undefined (OF for counts above 1, AF) are
 * computed as QEMU does, which makes differential tests against Unicorn simpler: shifts clear AF; OF is
 * MSB(result) XOR CF for SHL and ROL, 0 for SAR, MSB of the operand shifted by count-1 for SHR.
 */
final class Shifts {

    static final int ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;
    private static final int CF = 1, AF = 0x10, OF = 0x800;

    private Shifts() {}

    /** Group 2: C0, C1 (imm8), D0, D1 (1), D2, D3 (CL). */
    static void group2(Cpu c, Insn i) {
        int size = (i.op & 1) == 0 ? 1 : i.opSize;
        int count = switch (i.op) {
            case 0xc0, 0xc1 -> (int) i.imm;
            case 0xd0, 0xd1 -> 1;
            default -> (int) c.r[Cpu.RCX];
        };
        count &= size == 8 ? 0x3f : 0x1f;
        long d = Operands.rmwRead(c, i, size);
        long r = count == 0 ? d : shift(c, i.reg & 7, d, count, size);
        Operands.rmwWrite(c, i, size, r);
    }

    /** {@code d} shifted or rotated by {@code count} (1..63, already masked), setting the flags. */
    static long shift(Cpu c, int op, long d, int count, int size) {
        int bits = size << 3;
        long mask = Cpu.mask(size);
        d &= mask;
        long msb = 1L << (bits - 1);
        switch (op) {
            case ROL, ROR -> {
                int n = count & (bits - 1);
                long r = op == ROL ? rotl(d, n, bits) : rotl(d, (bits - n) & (bits - 1), bits);
                int cf;
                boolean of;
                if (op == ROL) {
                    cf = (int) (r & 1);
                    of = ((r & msb) != 0) ^ (cf != 0);
                } else {
                    cf = (r & msb) != 0 ? 1 : 0;
                    of = ((r ^ (r << 1)) & msb) != 0;
                }
                Flags.replace(c, CF | OF, cf | (of ? OF : 0));
                return r;
            }
            case RCL, RCR -> {
                int n = size == 1 ? count % 9 : size == 2 ? count % 17 : count;
                if (n == 0) {
                    return d;
                }
                long cin = Flags.cf(c);
                long r;
                int cout;
                if (op == RCL) {
                    // (CF:d) rotated left by n within bits+1
                    cout = (int) ((d >>> (bits - n)) & 1);
                    r = (d << n) | (cin << (n - 1)) | (n > 1 ? d >>> (bits - n + 1) : 0);
                } else {
                    cout = (int) ((d >>> (n - 1)) & 1);
                    r = (d >>> n) | (cin << (bits - n)) | (n > 1 ? d << (bits - n + 1) : 0);
                }
                r &= mask;
                boolean of = ((d ^ r) & msb) != 0;
                Flags.replace(c, CF | OF, cout | (of ? OF : 0));
                return r;
            }
            case SHL, SAL -> {
                long t = d << (count - 1);
                long r = (t << 1) & mask;
                int cf = count > bits ? 0 : (t & msb) != 0 ? 1 : 0;
                boolean of = ((r & msb) != 0) ^ (cf != 0);
                Flags.result(c, r, size, cf | (of ? OF : 0));
                return r;
            }
            case SHR -> {
                long t = count > 63 ? 0 : d >>> (count - 1);
                long r = t >>> 1;
                boolean of = (t & msb) != 0 && ((r & msb) == 0);
                Flags.result(c, r, size, (int) (t & 1) | (of ? OF : 0));
                return r;
            }
            default -> { // SAR
                long t = Cpu.sext(d, size) >> Math.min(count - 1, 63);
                long r = (t >> 1) & mask;
                Flags.result(c, r, size, (int) (t & 1));
                return r;
            }
        }
    }

    private static long rotl(long d, int n, int bits) {
        if (n == 0) {
            return d;
        }
        if (bits == 64) {
            return Long.rotateLeft(d, n);
        }
        return ((d << n) | (d >>> (bits - n))) & ((1L << bits) - 1);
    }

    /** 0F A4/A5 SHLD and 0F AC/AD SHRD: {@code r/m, reg, imm8/CL}. */
    static void shiftDouble(Cpu c, Insn i) {
        int size = i.opSize;
        boolean left = i.op < 0x1a8;
        int count = (i.op & 1) == 0 ? (int) i.imm : (int) c.r[Cpu.RCX];
        count &= size == 8 ? 0x3f : 0x1f;
        long s = Operands.readReg(c, i, size);
        long d = Operands.rmwRead(c, i, size);
        long r = d;
        if (count != 0) {
            r = shiftDouble(c, left, d, s, count, size);
        }
        Operands.rmwWrite(c, i, size, r);
    }

    static long shiftDouble(Cpu c, boolean left, long d, long s, int count, int size) {
        int bits = size << 3;
        long mask = Cpu.mask(size);
        long msb = 1L << (bits - 1);
        d &= mask;
        s &= mask;
        long r;
        int cf;
        if (size == 2) {
            // 16 bits with counts up to 31: dst:src:dst as Intel does it
            long t = (d << 32) | (s << 16) | d;
            if (left) {
                r = (t << count >>> 32) & 0xffff;
                cf = (int) ((t >>> (48 - count)) & 1);
            } else {
                r = (t >>> count) & 0xffff;
                cf = (int) ((t >>> (count - 1)) & 1);
            }
        } else if (left) {
            r = ((d << count) | (s >>> (bits - count))) & mask;
            cf = (int) ((d >>> (bits - count)) & 1);
        } else {
            r = ((d >>> count) | (s << (bits - count))) & mask;
            cf = (int) ((d >>> (count - 1)) & 1);
        }
        boolean of = ((r ^ d) & msb) != 0;
        Flags.result(c, r, size, cf | (of ? OF : 0));
        return r;
    }
}
