package dev.thaw.emulated.cpu;

/**
 * Multiplication and division (SDM vol. 2, MUL, IMUL, DIV, IDIV). MUL and IMUL set CF = OF when the high
 * half is significant; SF, ZF, PF follow the low half as QEMU does (undefined in the SDM), AF is 0. DIV and
 * IDIV raise #DE for a zero divisor or a quotient that does not fit, and leave the flags unchanged
 * (undefined in the SDM).
 */
final class MulDiv {

    private static final int CF = 1, OF = 0x800;

    private MulDiv() {}

    /** Group 3 /4 MUL, /5 IMUL, /6 DIV, /7 IDIV of AL/AX/EAX/RAX by r/m. */
    static void group3(Cpu c, Insn i, int size) {
        long s = Operands.readRm(c, i, size);
        switch (i.reg & 7) {
            case 4 -> mul(c, s, size);
            case 5 -> imul1(c, s, size);
            case 6 -> div(c, s, size);
            default -> idiv(c, s, size);
        }
    }

    private static void mul(Cpu c, long s, int size) {
        long a = c.reg(size, Cpu.RAX, false);
        long lo;
        long hi;
        switch (size) {
            case 1 -> {
                long p = a * s;
                c.setReg(2, Cpu.RAX, false, p);
                lo = p & 0xff;
                hi = p >>> 8;
            }
            case 2 -> {
                long p = a * s;
                lo = p & 0xffff;
                hi = p >>> 16;
                c.setReg(2, Cpu.RAX, false, lo);
                c.setReg(2, Cpu.RDX, false, hi);
            }
            case 4 -> {
                long p = a * s;
                lo = p & 0xffff_ffffL;
                hi = p >>> 32;
                c.setReg(4, Cpu.RAX, false, lo);
                c.setReg(4, Cpu.RDX, false, hi);
            }
            default -> {
                lo = a * s;
                hi = Math.unsignedMultiplyHigh(a, s);
                c.r[Cpu.RAX] = lo;
                c.r[Cpu.RDX] = hi;
            }
        }
        int f = hi != 0 ? CF | OF : 0;
        Flags.result(c, lo, size, f);
    }

    /** One-operand IMUL: RDX:RAX = RAX * r/m, signed. */
    private static void imul1(Cpu c, long s, int size) {
        long a = Cpu.sext(c.reg(size, Cpu.RAX, false), size);
        long sv = Cpu.sext(s, size);
        long lo;
        boolean overflow;
        switch (size) {
            case 1 -> {
                long p = a * sv;
                c.setReg(2, Cpu.RAX, false, p);
                lo = p;
                overflow = p != (byte) p;
            }
            case 2 -> {
                long p = a * sv;
                c.setReg(2, Cpu.RAX, false, p);
                c.setReg(2, Cpu.RDX, false, p >> 16);
                lo = p;
                overflow = p != (short) p;
            }
            case 4 -> {
                long p = a * sv;
                c.setReg(4, Cpu.RAX, false, p);
                c.setReg(4, Cpu.RDX, false, p >> 32);
                lo = p;
                overflow = p != (int) p;
            }
            default -> {
                lo = a * sv;
                long hi = Math.multiplyHigh(a, sv);
                c.r[Cpu.RAX] = lo;
                c.r[Cpu.RDX] = hi;
                overflow = hi != (lo >> 63);
            }
        }
        Flags.result(c, lo, size, overflow ? CF | OF : 0);
    }

    /** Two- and three-operand IMUL (0F AF, 69, 6B): reg = src1 * src2, truncated. */
    static void imul(Cpu c, Insn i) {
        int size = i.opSize;
        long a;
        long b;
        if (i.op == 0x1af) {
            a = Operands.readReg(c, i, size);
            b = Operands.readRm(c, i, size);
        } else {
            a = Operands.readRm(c, i, size);
            b = i.imm;
        }
        a = Cpu.sext(a, size);
        b = Cpu.sext(b, size);
        long lo = a * b;
        boolean overflow = switch (size) {
            case 2 -> lo != (short) lo;
            case 4 -> lo != (int) lo;
            default -> Math.multiplyHigh(a, b) != (lo >> 63);
        };
        Operands.writeReg(c, i, size, lo);
        Flags.result(c, lo, size, overflow ? CF | OF : 0);
    }

    private static void div(Cpu c, long s, int size) {
        if (s == 0) {
            throw CpuException.de();
        }
        switch (size) {
            case 1 -> {
                long n = c.r[Cpu.RAX] & 0xffff;
                long q = n / s;
                if (q > 0xff) {
                    throw CpuException.de();
                }
                c.setReg(2, Cpu.RAX, false, ((n % s) << 8) | q);
            }
            case 2 -> {
                long n = ((c.r[Cpu.RDX] & 0xffff) << 16) | (c.r[Cpu.RAX] & 0xffff);
                long q = n / s;
                if (q > 0xffff) {
                    throw CpuException.de();
                }
                c.setReg(2, Cpu.RAX, false, q);
                c.setReg(2, Cpu.RDX, false, n % s);
            }
            case 4 -> {
                long n = ((c.r[Cpu.RDX] & 0xffff_ffffL) << 32) | (c.r[Cpu.RAX] & 0xffff_ffffL);
                long q = Long.divideUnsigned(n, s);
                if (Long.compareUnsigned(q, 0xffff_ffffL) > 0) {
                    throw CpuException.de();
                }
                c.setReg(4, Cpu.RAX, false, q);
                c.setReg(4, Cpu.RDX, false, Long.remainderUnsigned(n, s));
            }
            default -> div128(c, c.r[Cpu.RDX], c.r[Cpu.RAX], s);
        }
    }

    /** Unsigned RDX:RAX / s, 128 by 64 bits; #DE if the quotient needs more than 64 bits. */
    private static void div128(Cpu c, long hi, long lo, long s) {
        if (Long.compareUnsigned(hi, s) >= 0) {
            throw CpuException.de();
        }
        if (hi == 0) {
            c.r[Cpu.RAX] = Long.divideUnsigned(lo, s);
            c.r[Cpu.RDX] = Long.remainderUnsigned(lo, s);
            return;
        }
        // shift-subtract, one quotient bit per step; hi < s keeps the remainder within 64 bits plus a carry
        long rem = hi;
        long q = 0;
        for (int k = 63; k >= 0; k--) {
            boolean carry = rem < 0;
            rem = (rem << 1) | ((lo >>> k) & 1);
            q <<= 1;
            if (carry || Long.compareUnsigned(rem, s) >= 0) {
                rem -= s;
                q |= 1;
            }
        }
        c.r[Cpu.RAX] = q;
        c.r[Cpu.RDX] = rem;
    }

    private static void idiv(Cpu c, long s, int size) {
        long d = Cpu.sext(s, size);
        if (d == 0) {
            throw CpuException.de();
        }
        switch (size) {
            case 1 -> {
                long n = (short) c.r[Cpu.RAX];
                long q = n / d;
                if (q != (byte) q) {
                    throw CpuException.de();
                }
                c.setReg(2, Cpu.RAX, false, ((n % d & 0xff) << 8) | (q & 0xff));
            }
            case 2 -> {
                long n = (int) (((c.r[Cpu.RDX] & 0xffff) << 16) | (c.r[Cpu.RAX] & 0xffff));
                long q = n / d;
                if (q != (short) q) {
                    throw CpuException.de();
                }
                c.setReg(2, Cpu.RAX, false, q);
                c.setReg(2, Cpu.RDX, false, n % d);
            }
            case 4 -> {
                long n = ((c.r[Cpu.RDX] & 0xffff_ffffL) << 32) | (c.r[Cpu.RAX] & 0xffff_ffffL);
                if (n == Long.MIN_VALUE && d == -1) {
                    throw CpuException.de();
                }
                long q = n / d;
                if (q != (int) q) {
                    throw CpuException.de();
                }
                c.setReg(4, Cpu.RAX, false, q);
                c.setReg(4, Cpu.RDX, false, n % d);
            }
            default -> idiv128(c, d);
        }
    }

    private static void idiv128(Cpu c, long d) {
        long hi = c.r[Cpu.RDX];
        long lo = c.r[Cpu.RAX];
        boolean negN = hi < 0;
        if (negN) { // negate the 128-bit dividend
            lo = -lo;
            hi = ~hi + (lo == 0 ? 1 : 0);
        }
        long ad = d < 0 ? -d : d; // |MIN_VALUE| stays 2^63 as an unsigned value
        if (Long.compareUnsigned(hi, ad) >= 0) {
            throw CpuException.de();
        }
        long q;
        long rem;
        if (hi == 0) {
            q = Long.divideUnsigned(lo, ad);
            rem = Long.remainderUnsigned(lo, ad);
        } else {
            rem = hi;
            q = 0;
            for (int k = 63; k >= 0; k--) {
                boolean carry = rem < 0;
                rem = (rem << 1) | ((lo >>> k) & 1);
                q <<= 1;
                if (carry || Long.compareUnsigned(rem, ad) >= 0) {
                    rem -= ad;
                    q |= 1;
                }
            }
        }
        boolean negQ = negN ^ (d < 0);
        // the unsigned quotient must fit the signed result
        if (negQ ? Long.compareUnsigned(q, 1L << 63) > 0 : q < 0) {
            throw CpuException.de();
        }
        c.r[Cpu.RAX] = negQ ? -q : q;
        c.r[Cpu.RDX] = negN ? -rem : rem;
    }
}
