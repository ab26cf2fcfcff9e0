package dev.thaw.emulated.cpu;

/**
 * The six arithmetic flags (CF PF AF ZF SF OF), computed lazily. An instruction records its operands and
 * result ({@code lz*} fields of {@link Cpu}), shifted left so the operand's sign bit is bit 63 (then one
 * 64-bit formula serves every size), and the kind of operation; a flag is computed only when something
 * reads it. {@link #NONE}: {@code fixedFlags} holds all six; {@link #RES}: ZF, SF and PF come from the
 * result and {@code fixedFlags} holds CF, OF and AF; {@link #INC}/{@link #DEC}: CF is in {@code fixedFlags}.
 */
final class Flags {

    static final int NONE = 0, ADD = 1, ADC = 2, SUB = 3, SBB = 4, INC = 5, DEC = 6, RES = 7;

    private static final int CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;

    private Flags() {}

    static int shiftFor(int size) {
        return 64 - (size << 3);
    }

    // ---- recording ----

    static void add(Cpu c, long dst, long src, long res, int size) {
        int sh = 64 - (size << 3);
        c.lzDst = dst << sh;
        c.lzSrc = src << sh;
        c.lzRes = res << sh;
        c.lzShift = sh;
        c.lazyOp = ADD;
    }

    static void sub(Cpu c, long dst, long src, long res, int size) {
        int sh = 64 - (size << 3);
        c.lzDst = dst << sh;
        c.lzSrc = src << sh;
        c.lzRes = res << sh;
        c.lzShift = sh;
        c.lazyOp = SUB;
    }

    static void adc(Cpu c, long dst, long src, long res, int cin, int size) {
        add(c, dst, src, res, size);
        c.lzCin = cin;
        c.lazyOp = cin != 0 ? ADC : ADD;
    }

    static void sbb(Cpu c, long dst, long src, long res, int cin, int size) {
        sub(c, dst, src, res, size);
        c.lzCin = cin;
        c.lazyOp = cin != 0 ? SBB : SUB;
    }

    /** INC: like ADD of 1 but CF is kept. */
    static void inc(Cpu c, long dst, long res, int size) {
        int cf = cf(c);
        add(c, dst, 1, res, size);
        c.fixedFlags = cf;
        c.lazyOp = INC;
    }

    /** DEC: like SUB of 1 but CF is kept. */
    static void dec(Cpu c, long dst, long res, int size) {
        int cf = cf(c);
        sub(c, dst, 1, res, size);
        c.fixedFlags = cf;
        c.lazyOp = DEC;
    }

    /** AND, OR, XOR, TEST: CF = OF = 0, AF = 0 (undefined on hardware; 0 as QEMU), ZF SF PF from the result. */
    static void logic(Cpu c, long res, int size) {
        int sh = 64 - (size << 3);
        c.lzRes = res << sh;
        c.lzShift = sh;
        c.fixedFlags = 0;
        c.lazyOp = RES;
    }

    /** ZF SF PF from {@code res}; CF, OF and AF as given in {@code cfOfAf} (bits in RFLAGS positions). */
    static void result(Cpu c, long res, int size, int cfOfAf) {
        int sh = 64 - (size << 3);
        c.lzRes = res << sh;
        c.lzShift = sh;
        c.fixedFlags = cfOfAf;
        c.lazyOp = RES;
    }

    /** All six flags given explicitly. */
    static void set(Cpu c, int arith) {
        c.fixedFlags = arith;
        c.lazyOp = NONE;
    }

    // ---- reading ----

    static int cf(Cpu c) {
        switch (c.lazyOp) {
            case ADD:
                return Long.compareUnsigned(c.lzRes, c.lzDst) < 0 ? 1 : 0;
            case ADC:
                return Long.compareUnsigned(c.lzRes, c.lzDst) <= 0 ? 1 : 0;
            case SUB:
                return Long.compareUnsigned(c.lzDst, c.lzSrc) < 0 ? 1 : 0;
            case SBB:
                return Long.compareUnsigned(c.lzDst, c.lzSrc) <= 0 ? 1 : 0;
            default:
                return c.fixedFlags & CF;
        }
    }

    static boolean of(Cpu c) {
        switch (c.lazyOp) {
            case ADD:
            case ADC:
            case INC:
                return ((c.lzDst ^ c.lzRes) & (c.lzSrc ^ c.lzRes)) < 0;
            case SUB:
            case SBB:
            case DEC:
                return ((c.lzDst ^ c.lzSrc) & (c.lzDst ^ c.lzRes)) < 0;
            default:
                return (c.fixedFlags & OF) != 0;
        }
    }

    static boolean zf(Cpu c) {
        return c.lazyOp == NONE ? (c.fixedFlags & ZF) != 0 : c.lzRes == 0;
    }

    static boolean sf(Cpu c) {
        return c.lazyOp == NONE ? (c.fixedFlags & SF) != 0 : c.lzRes < 0;
    }

    static boolean pf(Cpu c) {
        if (c.lazyOp == NONE) {
            return (c.fixedFlags & PF) != 0;
        }
        return (Integer.bitCount((int) (c.lzRes >>> c.lzShift) & 0xff) & 1) == 0;
    }

    static boolean af(Cpu c) {
        switch (c.lazyOp) {
            case NONE:
            case RES:
                return (c.fixedFlags & AF) != 0;
            default:
                return (((c.lzDst ^ c.lzSrc ^ c.lzRes) >>> c.lzShift) & 0x10) != 0;
        }
    }

    /** The six flags in their RFLAGS positions. */
    static int arith(Cpu c) {
        if (c.lazyOp == NONE) {
            return c.fixedFlags;
        }
        int f = cf(c);
        if (pf(c)) {
            f |= PF;
        }
        if (af(c)) {
            f |= AF;
        }
        if (c.lzRes == 0) {
            f |= ZF;
        }
        if (c.lzRes < 0) {
            f |= SF;
        }
        if (of(c)) {
            f |= OF;
        }
        return f;
    }

    /** Materializes the flags and replaces some: {@code arith = (arith & ~mask) | (bits & mask)}. */
    static void replace(Cpu c, int mask, int bits) {
        int f = arith(c);
        set(c, (f & ~mask) | (bits & mask));
    }

    /** Condition code {@code cc} (the low nibble of Jcc/SETcc/CMOVcc). */
    static boolean cond(Cpu c, int cc) {
        boolean r;
        if (c.lazyOp == SUB) {
            long d = c.lzDst;
            long s = c.lzSrc;
            switch (cc >> 1) {
                case 1 -> r = Long.compareUnsigned(d, s) < 0;
                case 2 -> r = d == s;
                case 3 -> r = Long.compareUnsigned(d, s) <= 0;
                case 6 -> r = d < s;
                case 7 -> r = d <= s;
                default -> r = slow(c, cc >> 1);
            }
        } else {
            r = slow(c, cc >> 1);
        }
        return r ^ ((cc & 1) != 0);
    }

    private static boolean slow(Cpu c, int n) {
        switch (n) {
            case 0:
                return of(c);
            case 1:
                return cf(c) != 0;
            case 2:
                return zf(c);
            case 3:
                return cf(c) != 0 || zf(c);
            case 4:
                return sf(c);
            case 5:
                return pf(c);
            case 6:
                return sf(c) != of(c);
            default:
                return zf(c) || sf(c) != of(c);
        }
    }
}
