package dev.thaw.emulated.diff;

import static dev.thaw.emulated.diff.Flags.AF;
import static dev.thaw.emulated.diff.Flags.CF;
import static dev.thaw.emulated.diff.Flags.OF;
import static dev.thaw.emulated.diff.Flags.PF;
import static dev.thaw.emulated.diff.Flags.SF;
import static dev.thaw.emulated.diff.Flags.STATUS;
import static dev.thaw.emulated.diff.Flags.ZF;
import static dev.thaw.emulated.diff.Gen.RAX;
import static dev.thaw.emulated.diff.Gen.RBP;
import static dev.thaw.emulated.diff.Gen.RBX;
import static dev.thaw.emulated.diff.Gen.RCX;
import static dev.thaw.emulated.diff.Gen.RDI;
import static dev.thaw.emulated.diff.Gen.RDX;
import static dev.thaw.emulated.diff.Gen.RSI;
import static dev.thaw.emulated.diff.Gen.RSP;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.thaw.emulated.diff.Asm.Mem;
import dev.thaw.emulated.diff.Asm.Reg;
import dev.thaw.emulated.diff.Asm.Rm;
import dev.thaw.emulated.diff.CpuUnderTest.CpuState;
import dev.thaw.emulated.diff.CpuUnderTest.Semantics;
import dev.thaw.emulated.diff.Gen.Ann;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The instruction-form table of the general-purpose integer ISA in 64-bit mode: every encoding at every
 * operand size, with register and memory r/m operands as separate forms. Each form carries, per
 * instance, the flags the SDM leaves undefined (the union of Intel's and AMD's lists where they differ,
 * as for BT's ZF).
 */
final class Forms {

    // Setup instructions the generator emits are these forms (counted and compared like the rest).
    static final Form MOV_R32_IMM32 = new Form("MOV r32, imm32 (B8+r)", "mov", g -> movRegImm(g, 4));
    static final Form MOV_R64_IMM64 = new Form("MOV r64, imm64 (REX.W B8+r)", "mov", g -> movRegImm(g, 8));
    static final Form MOV_RM64_IMM32 = new Form("MOV r/m64, imm32 [reg]", "mov", g -> movRmImm(g, 8, false));
    static final Form MOV_RM64_IMM32_MEM = new Form("MOV r/m64, imm32 [mem]", "mov", g -> movRmImm(g, 8, true));
    static final Form PUSH_IMM32 = new Form("PUSH imm32", "stack", g -> pushImm(g, 8, 4));
    static final Form PUSH_IMM16 = new Form("PUSH imm16 (66 68)", "stack", g -> pushImm(g, 2, 2));

    static final String[] CC = {"O", "NO", "B", "AE", "E", "NE", "BE", "A", "S", "NS", "P", "NP", "L", "GE", "LE", "G"};
    private static final int[] SIZES = {1, 2, 4, 8};
    private static final int[] WIDE = {2, 4, 8};

    /** Built on first use, after every constant the table's rows refer to. */
    private static final class Table {
        static final List<Form> ALL = build();
    }

    private Forms() {}

    /** Every form, in table order. */
    static List<Form> all() {
        return Table.ALL;
    }

    /** "1013 forms: arith 370, muldiv 48, ..." for logs and the project notes. */
    static String summary() {
        java.util.Map<String, Integer> byGroup = new java.util.LinkedHashMap<>();
        for (Form f : all()) {
            byGroup.merge(f.group(), 1, Integer::sum);
        }
        StringBuilder b = new StringBuilder().append(all().size()).append(" forms:");
        byGroup.forEach((g, n) -> b.append(' ').append(g).append(' ').append(n).append(','));
        b.setLength(b.length() - 1);
        return b.toString();
    }

    private static String b(int size) {
        return Integer.toString(8 * size);
    }

    private static String kind(boolean mem) {
        return mem ? " [mem]" : " [reg]";
    }

    private static List<Form> build() {
        List<Form> f = new ArrayList<>();
        arith(f);
        unary(f);
        multiplyDivide(f);
        moves(f);
        shifts(f);
        bits(f);
        exchange(f);
        conditional(f);
        flagsAndConversions(f);
        strings(f);
        stack(f);
        branches(f);
        misc(f);
        Set<String> names = new HashSet<>();
        for (Form x : f) {
            if (!names.add(x.name())) {
                throw new IllegalStateException("duplicate form " + x.name());
            }
        }
        return Collections.unmodifiableList(f);
    }

    // ===================================================================================== arithmetic

    private static final String[] ALU = {"ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP"};

    private static void arith(List<Form> f) {
        for (int k = 0; k < 8; k++) {
            int op = k;
            String n = ALU[k];
            long undef = (k == 1 || k == 4 || k == 6) ? AF : 0;
            boolean lockable = k != 7;
            for (int size : SIZES) {
                String s = b(size);
                for (boolean mem : new boolean[] {false, true}) {
                    f.add(new Form(n + " r/m" + s + ", r" + s + kind(mem), "arith",
                            g -> rmReg(g, op * 8 + (size == 1 ? 0 : 1), size, mem, lockable, undef)));
                    f.add(new Form(n + " r" + s + ", r/m" + s + kind(mem), "arith",
                            g -> regRm(g, op * 8 + (size == 1 ? 2 : 3), size, mem, undef)));
                    f.add(new Form(n + " r/m" + s + ", imm" + b(Math.min(size, 4)) + kind(mem), "arith",
                            g -> rmImm(g, size == 1 ? 0x80 : 0x81, op, size, Math.min(size, 4), mem, lockable, undef)));
                    if (size > 1) {
                        f.add(new Form(n + " r/m" + s + ", imm8" + kind(mem), "arith",
                                g -> rmImm(g, 0x83, op, size, 1, mem, lockable, undef)));
                    }
                }
                f.add(new Form(n + " " + Text.reg(size, 0) + ", imm" + b(Math.min(size, 4)), "arith",
                        g -> accImm(g, op * 8 + (size == 1 ? 4 : 5), size, undef)));
            }
        }
        for (int size : SIZES) {
            String s = b(size);
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("TEST r/m" + s + ", r" + s + kind(mem), "arith",
                        g -> rmReg(g, size == 1 ? 0x84 : 0x85, size, mem, false, AF)));
                f.add(new Form("TEST r/m" + s + ", imm" + b(Math.min(size, 4)) + kind(mem), "arith",
                        g -> rmImm(g, size == 1 ? 0xf6 : 0xf7, 0, size, Math.min(size, 4), mem, false, AF)));
            }
            f.add(new Form("TEST " + Text.reg(size, 0) + ", imm" + b(Math.min(size, 4)), "arith",
                    g -> accImm(g, size == 1 ? 0xa8 : 0xa9, size, AF)));
        }
    }

    static void rmReg(Gen g, int opcode, int size, boolean mem, boolean lockable, long undef) {
        boolean legacy = g.legacyBytes(size);
        Rm rm = g.regOrMem(mem, size, legacy);
        int reg = g.reg(size, legacy);
        Asm a = g.asm();
        if (lockable && mem && g.chance(0.15)) {
            a.prefix(0xf0);
        }
        a.size(size);
        if (!legacy) {
            g.vary(a, size);
        }
        a.op(opcode).modrm(reg, rm);
        g.emit(a, Gen.opd(size, rm) + ", " + Text.reg(size, reg), Ann.flags(undef).mem(rm, size));
    }

    static void regRm(Gen g, int opcode, int size, boolean mem, long undef) {
        boolean legacy = g.legacyBytes(size);
        Rm rm = g.regOrMem(mem, size, legacy);
        int reg = g.reg(size, legacy);
        Asm a = g.asm().size(size);
        if (!legacy) {
            g.vary(a, size);
        }
        a.op(opcode).modrm(reg, rm);
        g.emit(a, Text.reg(size, reg) + ", " + Gen.opd(size, rm), Ann.flags(undef).mem(rm, size));
    }

    static void rmImm(Gen g, int opcode, int digit, int size, int immSize, boolean mem, boolean lockable, long undef) {
        boolean legacy = g.legacyBytes(size);
        Rm rm = g.regOrMem(mem, size, legacy);
        long imm = g.imm(immSize);
        Asm a = g.asm();
        if (lockable && mem && g.chance(0.15)) {
            a.prefix(0xf0);
        }
        a.size(size);
        if (!legacy) {
            g.vary(a, size);
        }
        a.op(opcode).modrmDigit(digit, rm).imm(imm, immSize);
        g.emit(a, Gen.opd(size, rm) + ", " + Text.hex(imm), Ann.flags(undef).mem(rm, size));
    }

    static void accImm(Gen g, int opcode, int size, long undef) {
        int immSize = Math.min(size, 4);
        long imm = g.imm(immSize);
        Asm a = g.asm().size(size);
        g.vary(a, size);
        a.op(opcode).imm(imm, immSize);
        g.emit(a, Text.reg(size, 0) + ", " + Text.hex(imm), undef);
    }

    // ===================================================================================== unary

    private static void unary(List<Form> f) {
        String[] names = {"NOT", "NEG"};
        for (int i = 0; i < 2; i++) {
            int digit = 2 + i;
            for (int size : SIZES) {
                for (boolean mem : new boolean[] {false, true}) {
                    f.add(new Form(names[i] + " r/m" + b(size) + kind(mem), "arith",
                            g -> unaryOp(g, size == 1 ? 0xf6 : 0xf7, digit, size, mem, true, 0)));
                }
            }
        }
        String[] incdec = {"INC", "DEC"};
        for (int i = 0; i < 2; i++) {
            int digit = i;
            for (int size : SIZES) {
                for (boolean mem : new boolean[] {false, true}) {
                    f.add(new Form(incdec[i] + " r/m" + b(size) + kind(mem), "arith",
                            g -> unaryOp(g, size == 1 ? 0xfe : 0xff, digit, size, mem, true, 0)));
                }
            }
        }
    }

    static void unaryOp(Gen g, int opcode, int digit, int size, boolean mem, boolean lockable, long undef) {
        boolean legacy = g.legacyBytes(size);
        Rm rm = g.regOrMem(mem, size, legacy);
        Asm a = g.asm();
        boolean lock = lockable && mem && g.chance(0.15);
        if (lock) {
            a.prefix(0xf0);
        }
        a.size(size);
        if (!legacy) {
            g.vary(a, size);
        }
        a.op(opcode).modrmDigit(digit, rm);
        Ann ann = Ann.flags(undef).mem(rm, size);
        if (lock && digit == 3 && (opcode & 0xfe) == 0xf6) {
            ann.oracleFix(lockNegFlags(size, g.val(size, rm)));
        }
        g.emit(a, Gen.opd(size, rm), ann);
    }

    // ===================================================================================== MUL/IMUL/DIV/IDIV

    private static final long MUL_UNDEF = SF | ZF | AF | PF;

    private static void multiplyDivide(List<Form> f) {
        for (int size : SIZES) {
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("MUL r/m" + b(size) + kind(mem), "muldiv",
                        g -> unaryOp(g, size == 1 ? 0xf6 : 0xf7, 4, size, mem, false, MUL_UNDEF)));
                f.add(new Form("IMUL r/m" + b(size) + kind(mem), "muldiv",
                        g -> unaryOp(g, size == 1 ? 0xf6 : 0xf7, 5, size, mem, false, MUL_UNDEF)));
                f.add(new Form("DIV r/m" + b(size) + kind(mem), "muldiv", g -> divide(g, false, size, mem)));
                f.add(new Form("IDIV r/m" + b(size) + kind(mem), "muldiv", g -> divide(g, true, size, mem)));
            }
        }
        for (int size : WIDE) {
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("IMUL r" + b(size) + ", r/m" + b(size) + kind(mem), "muldiv", g -> {
                    Rm rm = g.regOrMem(mem, size, false);
                    int reg = g.gpr();
                    Asm a = g.asm().size(size);
                    g.vary(a, size);
                    a.op(0x0f, 0xaf).modrm(reg, rm);
                    g.emit(a, Text.reg(size, reg) + ", " + Gen.opd(size, rm), Ann.flags(MUL_UNDEF).mem(rm, size));
                }));
                for (int immSize : new int[] {Math.min(size, 4), 1}) {
                    f.add(new Form("IMUL r" + b(size) + ", r/m" + b(size) + ", imm" + b(immSize) + kind(mem), "muldiv",
                            g -> {
                                Rm rm = g.regOrMem(mem, size, false);
                                int reg = g.gpr();
                                long imm = g.imm(immSize);
                                Asm a = g.asm().size(size);
                                g.vary(a, size);
                                a.op(immSize == 1 ? 0x6b : 0x69).modrm(reg, rm).imm(imm, immSize);
                                g.emit(a, Text.reg(size, reg) + ", " + Gen.opd(size, rm) + ", " + Text.hex(imm),
                                        Ann.flags(MUL_UNDEF).mem(rm, size));
                            }));
                }
            }
        }
    }

    /**
     * DIV/IDIV with a dividend chosen so the quotient fits about 95% of the time; otherwise (and for a
     * zero divisor) both CPUs must raise #DE.
     */
    static void divide(Gen g, boolean signed, int size, boolean mem) {
        boolean legacy = g.legacyBytes(size);
        int dividendRegs = size == 1 ? 1 << RAX : (1 << RAX) | (1 << RDX);
        Rm rm;
        if (mem) {
            rm = g.mem(size, 1, dividendRegs, legacy);
        } else {
            int code;
            do {
                code = g.reg(size, legacy);
            } while (isDividend(size, code) && !g.chance(0.1));
            rm = new Reg(code);
        }
        boolean rmIsDividend = rm instanceof Reg reg && isDividend(size, reg.code());
        boolean fault = g.chance(0.05);
        int bits = 8 * size;
        if (!rmIsDividend) {
            long d = g.val(size, rm);
            if (d == 0 && !fault && rm instanceof Reg reg) {
                d = 1 + g.nextInt(1000);
                g.setPart(size, reg.code(), d);
            }
            BigInteger divisor = signed ? BigInteger.valueOf(Gen.sext(d, size))
                    : new BigInteger(Long.toUnsignedString(d));
            BigInteger dividend;
            if (divisor.signum() == 0) {
                dividend = BigInteger.valueOf(g.nextLong());
            } else if (!signed) {
                BigInteger limit = BigInteger.ONE.shiftLeft(bits);
                BigInteger q = fault ? limit.add(BigInteger.valueOf(g.nextInt(1000)))
                        : randomBelow(g, limit, bits);
                dividend = q.multiply(divisor).add(randomBelow(g, divisor, bits));
            } else {
                BigInteger half = BigInteger.ONE.shiftLeft(bits - 1);
                BigInteger q;
                if (fault) {
                    q = g.chance(0.5) ? half : half.negate().subtract(BigInteger.ONE);
                } else {
                    q = randomBelow(g, half.shiftLeft(1), bits).subtract(half);
                    if (g.chance(0.3)) {
                        q = BigInteger.valueOf(g.nextInt(200) - 100);
                    }
                }
                BigInteger prod = q.multiply(divisor);
                BigInteger rem = randomBelow(g, divisor.abs(), bits);
                dividend = prod.signum() < 0 || (prod.signum() == 0 && g.chance(0.5)) ? prod.subtract(rem)
                        : prod.add(rem);
            }
            long lo = dividend.longValue();
            long hi = dividend.shiftRight(bits).longValue();
            if (size == 1) {
                g.setReg(RAX, (g.r[RAX] & ~0xffffL) | (dividend.longValue() & 0xffff));
            } else {
                g.setPart(size, RAX, lo);
                g.setPart(size, RDX, hi);
            }
        }
        Asm a = g.asm().size(size);
        if (!legacy) {
            g.vary(a, size);
        }
        a.op(size == 1 ? 0xf6 : 0xf7).modrmDigit(signed ? 7 : 6, rm);
        g.emit(a, Gen.opd(size, rm), Ann.flags(STATUS).mem(rm, size));
    }

    private static boolean isDividend(int size, int code) {
        return size == 1 ? code == 0 || code == Asm.AH : code == RAX || code == RDX;
    }

    private static BigInteger randomBelow(Gen g, BigInteger bound, int bits) {
        if (bound.signum() <= 0) {
            return BigInteger.ZERO;
        }
        BigInteger r = new BigInteger(bits + 8, new java.util.Random(g.nextLong()));
        if (g.chance(0.3)) {
            r = BigInteger.valueOf(g.nextInt(16));
        }
        return r.mod(bound);
    }

    // ===================================================================================== moves

    private static void moves(List<Form> f) {
        f.add(MOV_R32_IMM32);
        f.add(MOV_R64_IMM64);
        f.add(MOV_RM64_IMM32);
        f.add(MOV_RM64_IMM32_MEM);
        for (int size : SIZES) {
            String s = b(size);
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("MOV r/m" + s + ", r" + s + kind(mem), "mov",
                        g -> rmReg(g, size == 1 ? 0x88 : 0x89, size, mem, false, 0)));
                f.add(new Form("MOV r" + s + ", r/m" + s + kind(mem), "mov",
                        g -> regRm(g, size == 1 ? 0x8a : 0x8b, size, mem, 0)));
                if (size != 8) {
                    f.add(new Form("MOV r/m" + s + ", imm" + s + kind(mem), "mov", g -> movRmImm(g, size, mem)));
                }
            }
            if (size < 4) {
                f.add(new Form("MOV r" + s + ", imm" + s + (size == 1 ? " (B0+r)" : " (B8+r)"), "mov",
                        g -> movRegImm(g, size)));
            }
            f.add(new Form("MOV " + Text.reg(size, 0) + ", moffs" + s, "mov", g -> moffs(g, size, false)));
            f.add(new Form("MOV moffs" + s + ", " + Text.reg(size, 0), "mov", g -> moffs(g, size, true)));
        }
        for (int dsize : WIDE) {
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("MOVZX r" + b(dsize) + ", r/m8" + kind(mem), "mov", g -> movx(g, 0xb6, dsize, 1, mem)));
                f.add(new Form("MOVSX r" + b(dsize) + ", r/m8" + kind(mem), "mov", g -> movx(g, 0xbe, dsize, 1, mem)));
                if (dsize > 2) {
                    f.add(new Form("MOVZX r" + b(dsize) + ", r/m16" + kind(mem), "mov",
                            g -> movx(g, 0xb7, dsize, 2, mem)));
                    f.add(new Form("MOVSX r" + b(dsize) + ", r/m16" + kind(mem), "mov",
                            g -> movx(g, 0xbf, dsize, 2, mem)));
                    f.add(new Form("MOVSXD r" + b(dsize) + ", r/m32" + kind(mem), "mov",
                            g -> movx(g, -0x63, dsize, 4, mem)));
                }
            }
            f.add(new Form("LEA r" + b(dsize) + ", m", "mov", g -> {
                Mem m = g.memAny();
                int reg = g.gpr();
                Asm a = g.asm().size(dsize);
                g.vary(a, dsize);
                a.op(0x8d).modrm(reg, m);
                g.emit(a, Text.reg(dsize, reg) + ", " + m, 0);
            }));
        }
    }

    static void movRegImm(Gen g, int size) {
        boolean legacy = g.legacyBytes(size);
        int reg = g.reg(size, legacy);
        long imm = g.imm(size);
        Asm a = g.asm().size(size);
        if (!legacy) {
            g.vary(a, size);
        }
        a.opReg(reg, 0xb0 + (size == 1 ? 0 : 8)).imm(imm, size);
        g.emit(a, Text.reg(size, reg) + ", " + Text.hex(imm), 0);
    }

    static void movRmImm(Gen g, int size, boolean mem) {
        rmImm(g, size == 1 ? 0xc6 : 0xc7, 0, size, Math.min(size, 4), mem, false, 0);
    }

    static void moffs(Gen g, int size, boolean store) {
        boolean addr32 = g.chance(0.1);
        int seg = g.chance(0.2) ? (g.chance(0.5) ? Asm.FS : Asm.GS) : 0;
        long t = g.target(size, 1, false);
        long address = t - g.segBase(seg);
        Asm a = g.asm();
        if (seg != 0) {
            a.prefix(seg);
        }
        if (addr32) {
            a.prefix(0x67);
        }
        a.size(size);
        if (size > 1) {
            g.vary(a, size);
        }
        a.op((store ? 0xa2 : 0xa0) + (size == 1 ? 0 : 1)).imm(address, addr32 ? 4 : 8);
        String m = (seg == Asm.FS ? "fs:" : seg == Asm.GS ? "gs:" : "") + "[" + Text.hex(address) + "] (ea "
                + Text.hex(t) + ")";
        g.emit(a, store ? m + ", " + Text.reg(size, 0) : Text.reg(size, 0) + ", " + m, 0);
    }

    /** MOVZX/MOVSX (0F op2), or MOVSXD for {@code op2} -0x63. */
    static void movx(Gen g, int op2, int dsize, int ssize, boolean mem) {
        boolean legacy = ssize == 1 && dsize != 8 && g.chance(0.3);
        Rm rm = mem ? g.mem(ssize, 1, 0, legacy) : new Reg(g.reg(ssize, legacy));
        int reg = g.reg(dsize, legacy);
        Asm a = g.asm().size(dsize);
        if (ssize == 1) {
            a.byteRm();
        }
        if (!legacy) {
            g.vary(a, dsize);
        }
        if (op2 < 0) {
            a.op(-op2);
        } else {
            a.op(0x0f, op2);
        }
        a.modrm(reg, rm);
        g.emit(a, Text.reg(dsize, reg) + ", " + Gen.opd(ssize, rm), Ann.flags(0).mem(rm, ssize));
    }

    // ===================================================================================== shifts

    private static final String[] SHIFT = {"ROL", "ROR", "RCL", "RCR", "SHL", "SHR", null, "SAR"};

    private static void shifts(List<Form> f) {
        for (int k = 0; k < 8; k++) {
            if (SHIFT[k] == null) {
                continue;
            }
            int digit = k;
            for (int size : SIZES) {
                for (boolean mem : new boolean[] {false, true}) {
                    String rm = " r/m" + b(size);
                    f.add(new Form(SHIFT[k] + rm + ", 1" + kind(mem), "shift", g -> shift(g, digit, size, mem, 0)));
                    f.add(new Form(SHIFT[k] + rm + ", CL" + kind(mem), "shift", g -> shift(g, digit, size, mem, 1)));
                    f.add(new Form(SHIFT[k] + rm + ", imm8" + kind(mem), "shift", g -> shift(g, digit, size, mem, 2)));
                }
            }
        }
        for (int size : WIDE) {
            for (boolean mem : new boolean[] {false, true}) {
                for (boolean right : new boolean[] {false, true}) {
                    String n = (right ? "SHRD" : "SHLD") + " r/m" + b(size) + ", r" + b(size);
                    f.add(new Form(n + ", imm8" + kind(mem), "shift", g -> doubleShift(g, right, size, mem, false)));
                    f.add(new Form(n + ", CL" + kind(mem), "shift", g -> doubleShift(g, right, size, mem, true)));
                }
            }
        }
    }

    private static int shiftCount(Gen g, int size) {
        int bits = 8 * size;
        double x = g.rnd.nextDouble();
        if (x < 0.6) {
            return g.nextInt(bits + 1);
        }
        if (x < 0.85) {
            return g.nextInt(size == 8 ? 64 : 32);
        }
        return g.nextInt(256);
    }

    /** Count form 0: by 1 (D0/D1), 1: by CL (D2/D3), 2: by imm8 (C0/C1). */
    static void shift(Gen g, int digit, int size, boolean mem, int countForm) {
        boolean legacy = g.legacyBytes(size);
        Rm rm = mem ? g.mem(size, 1, 1 << RCX, legacy) : new Reg(g.reg(size, legacy));
        int count;
        if (countForm == 0) {
            count = 1;
        } else if (countForm == 1) {
            if (g.chance(0.4)) {
                g.setReg(RCX, (g.r[RCX] & ~0xffL) | shiftCount(g, size));
            }
            count = (int) (g.r[RCX] & 0xff);
        } else {
            count = shiftCount(g, size);
        }
        Asm a = g.asm().size(size);
        if (!legacy) {
            g.vary(a, size);
        }
        int w = size == 1 ? 0 : 1;
        switch (countForm) {
            case 0 -> a.op(0xd0 + w).modrmDigit(digit, rm);
            case 1 -> a.op(0xd2 + w).modrmDigit(digit, rm);
            default -> a.op(0xc0 + w).modrmDigit(digit, rm).imm(count, 1);
        }
        g.emit(a, Gen.opd(size, rm) + (countForm == 0 ? ", 1" : countForm == 1 ? ", cl (" + count + ")" : ", " + count),
                Ann.flags(shiftUndefined(digit, size, count)).mem(rm, size));
    }

    /**
     * SDM: a masked count of 0 affects no flag; OF is defined only for a count of 1; shifts leave AF
     * undefined, and SHL/SHR leave CF undefined when the count is at least the operand width (SAR too,
     * to be safe); rotates touch only CF and OF.
     */
    static long shiftUndefined(int digit, int size, int count) {
        int masked = count & (size == 8 ? 63 : 31);
        if (masked == 0) {
            return 0;
        }
        long u = masked == 1 ? 0 : OF;
        if (digit >= 4) {
            u |= AF;
            if (masked >= 8 * size) {
                u |= CF;
            }
        }
        return u;
    }

    static void doubleShift(Gen g, boolean right, int size, boolean mem, boolean byCl) {
        // Unicorn 2.0.1 computes a RIP-relative address of SHLD/SHRD imm8 without the immediate byte
        // (one less than the hardware does): no RIP-relative operands for those
        g.avoidRip = !byCl;
        Rm rm = mem ? g.mem(size, 1, 1 << RCX, false) : new Reg(g.gpr());
        int reg = g.gpr();
        int count;
        if (byCl) {
            if (g.chance(0.4)) {
                g.setReg(RCX, (g.r[RCX] & ~0xffL) | shiftCount(g, size));
            }
            count = (int) (g.r[RCX] & 0xff);
        } else {
            count = shiftCount(g, size);
        }
        Asm a = g.asm().size(size);
        g.vary(a, size);
        a.op(0x0f, (right ? 0xac : 0xa4) + (byCl ? 1 : 0)).modrm(reg, rm);
        if (!byCl) {
            a.imm(count, 1);
        }
        int masked = count & (size == 8 ? 63 : 31);
        Ann ann = Ann.flags(0).mem(rm, size);
        if (masked != 0) {
            ann.flags = AF | (masked == 1 ? 0 : OF);
            if (masked > 8 * size) {
                // count beyond the operand: result and flags undefined
                ann.flags = STATUS;
                if (rm instanceof Reg dst) {
                    ann.reg(dst.code());
                } else {
                    ann.undefinedMem(((Mem) rm).ea(), size);
                }
            }
        }
        g.emit(a, Gen.opd(size, rm) + ", " + Text.reg(size, reg) + ", " + (byCl ? "cl (" + count + ")" : count), ann);
    }

    // ===================================================================================== bit instructions

    private static final String[] BT = {"BT", "BTS", "BTR", "BTC"};
    /** BT*: CF defined; OF SF AF PF undefined (Intel), ZF too (AMD). */
    private static final long BT_UNDEF = OF | SF | AF | PF | ZF;

    private static void bits(List<Form> f) {
        for (int k = 0; k < 4; k++) {
            int op = k;
            for (int size : WIDE) {
                for (boolean mem : new boolean[] {false, true}) {
                    f.add(new Form(BT[k] + " r/m" + b(size) + ", r" + b(size) + kind(mem), "bit",
                            g -> btReg(g, op, size, mem)));
                    f.add(new Form(BT[k] + " r/m" + b(size) + ", imm8" + kind(mem), "bit", g -> btImm(g, op, size, mem)));
                }
            }
        }
        for (int size : WIDE) {
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("BSF r" + b(size) + ", r/m" + b(size) + kind(mem), "bit",
                        g -> bitScan(g, 0, 0xbc, size, mem, CF | OF | SF | AF | PF, true)));
                f.add(new Form("BSR r" + b(size) + ", r/m" + b(size) + kind(mem), "bit",
                        g -> bitScan(g, 0, 0xbd, size, mem, CF | OF | SF | AF | PF, true)));
                f.add(new Form("TZCNT r" + b(size) + ", r/m" + b(size) + kind(mem), "bit",
                        g -> bitScan(g, 0xf3, 0xbc, size, mem, OF | SF | AF | PF, false)));
                f.add(new Form("LZCNT r" + b(size) + ", r/m" + b(size) + kind(mem), "bit",
                        g -> bitScan(g, 0xf3, 0xbd, size, mem, OF | SF | AF | PF, false)));
                f.add(new Form("POPCNT r" + b(size) + ", r/m" + b(size) + kind(mem), "bit",
                        g -> bitScan(g, 0xf3, 0xb8, size, mem, 0, false)));
            }
        }
        for (int size : new int[] {4, 8}) {
            f.add(new Form("BSWAP r" + b(size), "bit", g -> {
                int reg = g.gpr();
                Asm a = g.asm().size(size);
                g.vary(a, size);
                a.opReg(reg, 0x0f, 0xc8);
                g.emit(a, Text.reg(size, reg), 0);
            }));
        }
        for (int size : WIDE) {
            f.add(new Form("MOVBE r" + b(size) + ", m" + b(size), "bit", g -> movbe(g, false, size)));
            f.add(new Form("MOVBE m" + b(size) + ", r" + b(size), "bit", g -> movbe(g, true, size)));
        }
    }

    static void btReg(Gen g, int k, int size, boolean mem) {
        int bits = 8 * size;
        Rm rm;
        int off;
        if (mem) {
            off = g.gprExcept(1 << RSP);
            Mem m = g.mem(size, 1, 1 << off, false);
            rm = m;
            // a bit offset that keeps the addressed unit inside the area (-64..64 units around the operand)
            long ea = m.ea();
            long lo = ea >= GuestLayout.STACK ? GuestLayout.STACK + GuestLayout.MARGIN : GuestLayout.DATA + GuestLayout.MARGIN;
            long hi = lo - GuestLayout.MARGIN + GuestLayout.DATA_SIZE - GuestLayout.MARGIN - size;
            long unitsDown = Math.min(64, (ea - lo) / size);
            long unitsUp = Math.min(64, (hi - ea) / size);
            long current = Gen.sext(g.r[off], size) >> Integer.numberOfTrailingZeros(bits);
            if (current < -unitsDown || current > unitsUp || g.chance(0.1)) {
                long unit = -unitsDown + g.rnd.nextLong(unitsDown + unitsUp + 1);
                long bitOffset = unit * bits + g.nextInt(bits);
                long v = size == 8 ? bitOffset : (bitOffset & Gen.mask(size)) | (g.nextLong() & ~Gen.mask(size));
                g.setReg(off, v);
            }
        } else {
            rm = new Reg(g.gpr());
            off = g.gpr();
        }
        Asm a = g.asm();
        if (k != 0 && mem && g.chance(0.15)) {
            a.prefix(0xf0);
        }
        a.size(size);
        g.vary(a, size);
        a.op(0x0f, 0xa3 + 8 * k).modrm(off, rm);
        long bitOffset = Gen.sext(g.r[off], size);
        g.emit(a, Gen.opd(size, rm) + ", " + Text.reg(size, off) + " (" + bitOffset + ")",
                Ann.flags(BT_UNDEF).mem(rm, size));
    }

    static void btImm(Gen g, int k, int size, boolean mem) {
        Rm rm = g.regOrMem(mem, size, false);
        int imm = g.chance(0.7) ? g.nextInt(8 * size) : g.nextInt(256);
        Asm a = g.asm();
        if (k != 0 && mem && g.chance(0.15)) {
            a.prefix(0xf0);
        }
        a.size(size);
        g.vary(a, size);
        a.op(0x0f, 0xba).modrmDigit(4 + k, rm).imm(imm, 1);
        g.emit(a, Gen.opd(size, rm) + ", " + imm, Ann.flags(BT_UNDEF).mem(rm, size));
    }

    /** BSF/BSR (prefix 0), TZCNT/LZCNT/POPCNT (F3); a zero source now and then. */
    static void bitScan(Gen g, int prefix, int op2, int size, boolean mem, long undef, boolean zeroUndefinesDest) {
        Rm rm = g.regOrMem(mem, size, false);
        if (rm instanceof Reg src && g.chance(0.08)) {
            g.setPart(size, src.code(), 0);
        }
        long value = g.val(size, rm);
        int reg = g.gpr();
        Asm a = g.asm();
        if (prefix != 0) {
            a.prefix(prefix);
        }
        a.size(size);
        g.vary(a, size);
        a.op(0x0f, op2).modrm(reg, rm);
        Ann ann = Ann.flags(undef).mem(rm, size);
        if (zeroUndefinesDest && value == 0) {
            ann.reg(reg);
        }
        if (op2 == 0xb8) {
            ann.fallback(popcnt(a.bytes().length, size, reg, rm));
        }
        g.emit(a, Text.reg(size, reg) + ", " + Gen.opd(size, rm) + (value == 0 ? " (zero)" : ""), ann);
    }

    static void movbe(Gen g, boolean store, int size) {
        Mem m = g.mem(size, 1, 0, false);
        int reg = g.gpr();
        Asm a = g.asm().size(size);
        g.vary(a, size);
        a.op(0x0f, 0x38, store ? 0xf1 : 0xf0).modrm(reg, m);
        Ann ann = Ann.flags(0).mem(m, size).fallback(movbeModel(a.bytes().length, store, size, reg, m.ea()));
        g.emit(a, store ? Gen.opd(size, m) + ", " + Text.reg(size, reg) : Text.reg(size, reg) + ", " + Gen.opd(size, m),
                ann);
    }

    // ---- Java models for what Unicorn 2.0.1 lacks (its CPUID has neither POPCNT nor MOVBE) ----

    private static long read(MemorySegment memory, long address, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | (memory.get(JAVA_BYTE, address + i) & 0xff);
        }
        return v;
    }

    private static void write(MemorySegment memory, long address, int size, long v) {
        for (int i = 0; i < size; i++) {
            memory.set(JAVA_BYTE, address + i, (byte) (v >>> (8 * i)));
        }
    }

    /** A register write at {@code size}: 32-bit writes zero the upper half, 16-bit writes merge. */
    static long merge(long old, int size, long v) {
        return switch (size) {
            case 2 -> (old & ~0xffffL) | (v & 0xffff);
            case 4 -> v & 0xffff_ffffL;
            default -> v;
        };
    }

    private static long swap(long v, int size) {
        return Long.reverseBytes(v) >>> (64 - 8 * size);
    }

    static Semantics popcnt(int length, int size, int dst, Rm src) {
        return cpu -> {
            CpuState s = cpu.state();
            long v = src instanceof Reg r ? s.gpr(r.code()) & Gen.mask(size)
                    : read(cpu.memory(), ((Mem) src).ea(), size);
            long flags = (s.rflags() & ~STATUS) | (v == 0 ? ZF : 0);
            cpu.setState(s.withGpr(dst, merge(s.gpr(dst), size, Long.bitCount(v))).withRflags(flags)
                    .withRip(s.rip() + length));
        };
    }

    static Semantics movbeModel(int length, boolean store, int size, int reg, long ea) {
        return cpu -> {
            CpuState s = cpu.state();
            if (store) {
                write(cpu.memory(), ea, size, swap(s.gpr(reg), size));
                cpu.setState(s.withRip(s.rip() + length));
            } else {
                long v = swap(read(cpu.memory(), ea, size), size);
                cpu.setState(s.withGpr(reg, merge(s.gpr(reg), size, v)).withRip(s.rip() + length));
            }
        };
    }

    // ===================================================================================== Unicorn bugs

    // Where Unicorn 2.0.1 (QEMU 5.0's translator) is wrong and the host CPU (AMD EPYC, user mode) and the
    // SDM agree, the oracle's result is corrected after the step (checked natively on this machine):
    //  - LOCK NEG m: QEMU computes the status flags wrongly (LOCK NEG byte 0x68: host CF AF SF, QEMU CF AF);
    //  - CMPXCHG r/m32: QEMU writes EAX also on success (zeroing RAX[63:32]) and writes a register
    //    destination also on failure (zeroing its upper half); the host leaves both unchanged
    //    (unicorn-engine/unicorn#2332; FEX-Emu/FEX#439);
    //  - LAHF/SAHF with a REX prefix: QEMU uses SPL instead of AH (the host uses AH).
    // And where no correction is possible the generator does not make the combination:
    //  - SHLD/SHRD r/m, r, imm8 with a RIP-relative operand: QEMU's address is one byte too low;
    //  - LOCK XOR r, r (same register): QEMU zeroes the register instead of raising #UD;
    //  - INT 6: QEMU reports an invalid opcode with RIP on the instruction instead of vector 6 after it;
    //  - LOCK on a non-lockable instruction (LOCK MOV m, r runs) and a REX prefix before a legacy prefix
    //    (QEMU keeps the REX; the host ignores it): not generated.

    static long statusOf(long result, int size) {
        long r = result & Gen.mask(size);
        long f = (Long.bitCount(r & 0xff) & 1) == 0 ? PF : 0;
        if (r == 0) {
            f |= ZF;
        }
        if ((r >>> (8 * size - 1)) != 0) {
            f |= SF;
        }
        return f;
    }

    static CpuUnderTest.OracleFix lockNegFlags(int size, long value) {
        long v = value & Gen.mask(size);
        long flags = statusOf(-v, size) | (v != 0 ? CF : 0) | ((v & 0xf) != 0 ? AF : 0)
                | (v == 1L << (8 * size - 1) ? OF : 0);
        return (oracle, before) -> {
            CpuState s = oracle.state();
            oracle.setState(s.withRflags((s.rflags() & ~STATUS) | flags));
        };
    }

    /** CMPXCHG r/m32: RAX kept on success, a register destination (not EAX) kept on failure. */
    static CpuUnderTest.OracleFix cmpxchg32Writes(int destReg) {
        return (oracle, before) -> {
            CpuState s = oracle.state();
            boolean equal = (s.rflags() & ZF) != 0;
            if (equal && destReg != RAX) {
                s = s.withGpr(RAX, before.gpr(RAX));
            } else if (!equal && destReg >= 0) {
                s = s.withGpr(destReg, before.gpr(destReg));
            }
            oracle.setState(s);
        };
    }

    static final CpuUnderTest.OracleFix LAHF_WITH_REX = (oracle, before) -> {
        CpuState s = oracle.state();
        long ah = (before.rflags() & 0xd5) | 2;
        oracle.setState(s.withGpr(RSP, before.gpr(RSP)).withGpr(RAX, (before.gpr(RAX) & ~0xff00L) | ah << 8));
    };

    static final CpuUnderTest.OracleFix SAHF_WITH_REX = (oracle, before) -> {
        CpuState s = oracle.state();
        long ah = (before.gpr(RAX) >>> 8) & 0xd5;
        oracle.setState(s.withRflags((before.rflags() & ~0xd5L) | ah | 2));
    };

    // ===================================================================================== exchange

    private static void exchange(List<Form> f) {
        for (int size : SIZES) {
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("XCHG r/m" + b(size) + ", r" + b(size) + kind(mem), "xchg",
                        g -> rmReg(g, size == 1 ? 0x86 : 0x87, size, mem, true, 0)));
                f.add(new Form("CMPXCHG r/m" + b(size) + ", r" + b(size) + kind(mem), "xchg", g -> cmpxchg(g, size, mem)));
                f.add(new Form("XADD r/m" + b(size) + ", r" + b(size) + kind(mem), "xchg", g -> {
                    boolean legacy = g.legacyBytes(size);
                    Rm rm = g.regOrMem(mem, size, legacy);
                    int reg = g.reg(size, legacy);
                    Asm a = g.asm();
                    if (mem && g.chance(0.3)) {
                        a.prefix(0xf0);
                    }
                    a.size(size);
                    if (!legacy) {
                        g.vary(a, size);
                    }
                    a.op(0x0f, size == 1 ? 0xc0 : 0xc1).modrm(reg, rm);
                    g.emit(a, Gen.opd(size, rm) + ", " + Text.reg(size, reg), Ann.flags(0).mem(rm, size));
                }));
            }
        }
        for (int size : WIDE) {
            f.add(new Form("XCHG " + Text.reg(size, 0) + ", r" + b(size) + " (90+r)", "xchg", g -> {
                int reg = 1 + g.nextInt(15);
                Asm a = g.asm().size(size);
                g.vary(a, size);
                a.opReg(reg, 0x90);
                g.emit(a, Text.reg(size, 0) + ", " + Text.reg(size, reg), 0);
            }));
        }
        f.add(new Form("CMPXCHG8B m64", "xchg", g -> cmpxchgWide(g, false, false)));
        f.add(new Form("CMPXCHG16B m128", "xchg", g -> cmpxchgWide(g, true, false)));
        f.add(new Form("CMPXCHG16B m128 (misaligned: #GP)", "xchg", g -> cmpxchgWide(g, true, true)));
    }

    static void cmpxchg(Gen g, int size, boolean mem) {
        boolean legacy = g.legacyBytes(size);
        Rm rm = mem ? g.mem(size, 1, 1 << RAX, legacy) : new Reg(g.reg(size, legacy));
        int reg = g.reg(size, legacy);
        if (g.chance(0.5)) {
            g.setPart(size, RAX, g.val(size, rm));
        }
        boolean equal = g.val(size, RAX) == g.val(size, rm);
        Asm a = g.asm();
        if (mem && g.chance(0.3)) {
            a.prefix(0xf0);
        }
        a.size(size);
        if (!legacy) {
            g.vary(a, size);
        }
        a.op(0x0f, size == 1 ? 0xb0 : 0xb1).modrm(reg, rm);
        Ann ann = Ann.flags(0).mem(rm, size);
        if (size == 4) {
            ann.oracleFix(cmpxchg32Writes(rm instanceof Reg d ? d.code() : -1));
        }
        g.emit(a, Gen.opd(size, rm) + ", " + Text.reg(size, reg) + (equal ? " (equal)" : " (differ)"), ann);
    }

    static void cmpxchgWide(Gen g, boolean wide, boolean misaligned) {
        int size = wide ? 16 : 8;
        int regs = (1 << RAX) | (1 << RDX) | (1 << RBX) | (1 << RCX);
        Mem m = null;
        for (int i = 0; i < 20; i++) {
            m = g.mem(size, misaligned ? 8 : wide ? 16 : 1, regs, false);
            if (!misaligned || (m.ea() & 15) != 0) {
                break;
            }
        }
        boolean equal = false;
        if (g.chance(0.5)) {
            if (wide) {
                g.setReg(RAX, g.readMem(m.ea(), 8));
                g.setReg(RDX, g.readMem(m.ea() + 8, 8));
            } else {
                g.setPart(4, RAX, g.readMem(m.ea(), 4));
                g.setPart(4, RDX, g.readMem(m.ea() + 4, 4));
            }
            equal = true;
        }
        Asm a = g.asm();
        if (g.chance(0.3)) {
            a.prefix(0xf0);
        }
        if (wide) {
            a.w();
        }
        a.op(0x0f, 0xc7).modrmDigit(1, m);
        g.emit(a, (wide ? "xmmword " : "qword ") + m + " (ea " + Text.hex(m.ea()) + ")" + (equal ? " (equal)" : ""),
                Ann.flags(0).mem(m, size));
    }

    // ===================================================================================== SETcc, CMOVcc

    private static void conditional(List<Form> f) {
        for (int cc = 0; cc < 16; cc++) {
            int c = cc;
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("SET" + CC[cc] + " r/m8" + kind(mem), "cond", g -> {
                    boolean legacy = g.legacyBytes(1);
                    Rm rm = g.regOrMem(mem, 1, legacy);
                    Asm a = g.asm().size(1).op(0x0f, 0x90 + c).modrmDigit(g.chance(0.1) ? g.nextInt(8) : 0, rm);
                    g.emit(a, Gen.opd(1, rm), Ann.flags(0).mem(rm, 1));
                }));
                for (int size : WIDE) {
                    f.add(new Form("CMOV" + CC[cc] + " r" + b(size) + ", r/m" + b(size) + kind(mem), "cond",
                            g -> regRmOp(g, new int[] {0x0f, 0x40 + c}, size, mem)));
                }
            }
        }
    }

    static void regRmOp(Gen g, int[] opcode, int size, boolean mem) {
        Rm rm = g.regOrMem(mem, size, false);
        int reg = g.gpr();
        Asm a = g.asm().size(size);
        g.vary(a, size);
        a.op(opcode).modrm(reg, rm);
        g.emit(a, Text.reg(size, reg) + ", " + Gen.opd(size, rm), Ann.flags(0).mem(rm, size));
    }

    // ===================================================================================== flags, conversions

    private static void flagsAndConversions(List<Form> f) {
        String[] ext = {"CBW", "CWDE", "CDQE"};
        String[] wide = {"CWD", "CDQ", "CQO"};
        for (int i = 0; i < 3; i++) {
            int size = WIDE[i];
            f.add(new Form(ext[i], "flags", g -> simple(g, size, 0x98)));
            f.add(new Form(wide[i], "flags", g -> simple(g, size, 0x99)));
        }
        f.add(new Form("LAHF", "flags", g -> simple(g, 4, 0x9f)));
        f.add(new Form("SAHF", "flags", g -> simple(g, 4, 0x9e)));
        f.add(new Form("CLC", "flags", g -> simple(g, 4, 0xf8)));
        f.add(new Form("STC", "flags", g -> simple(g, 4, 0xf9)));
        f.add(new Form("CMC", "flags", g -> simple(g, 4, 0xf5)));
        f.add(new Form("CLD", "flags", g -> simple(g, 4, 0xfc)));
        f.add(new Form("STD", "flags", g -> simple(g, 4, 0xfd)));
    }

    static void simple(Gen g, int size, int... opcode) {
        Asm a = g.asm().size(size == 4 ? 4 : size);
        boolean rex = size == 4 && g.chance(0.05);
        if (rex) {
            a.rex();
        }
        a.op(opcode);
        Ann ann = Ann.flags(0);
        if (rex && opcode[0] == 0x9f) {
            ann.oracleFix(LAHF_WITH_REX);
        } else if (rex && opcode[0] == 0x9e) {
            ann.oracleFix(SAHF_WITH_REX);
        }
        g.emit(a, rex ? "(REX)" : "", ann);
    }

    // ===================================================================================== strings

    private static void strings(List<Form> f) {
        String[] names = {"MOVS", "CMPS", "STOS", "LODS", "SCAS"};
        int[] ops = {0xa4, 0xa6, 0xaa, 0xac, 0xae};
        String[] suffix = {"B", "W", "D", "Q"};
        for (int i = 0; i < 5; i++) {
            int op = ops[i];
            boolean compares = op == 0xa6 || op == 0xae;
            for (int s = 0; s < 4; s++) {
                int size = SIZES[s];
                String n = names[i] + suffix[s];
                f.add(new Form(n, "string", g -> string(g, op, size, 0)));
                if (compares) {
                    f.add(new Form("REPE " + n, "string", g -> string(g, op, size, 0xf3)));
                    f.add(new Form("REPNE " + n, "string", g -> string(g, op, size, 0xf2)));
                } else {
                    f.add(new Form("REP " + n, "string", g -> string(g, op, size, 0xf3)));
                }
            }
        }
    }

    /** A string instruction with RSI/RDI (ESI/EDI under 67) in the data area and a small count. */
    static void string(Gen g, int op, int size, int rep) {
        boolean usesSi = op == 0xa4 || op == 0xa6 || op == 0xac;
        boolean usesDi = op != 0xac;
        boolean addr32 = g.chance(0.15);
        int seg = usesSi && g.chance(0.15) ? new int[] {Asm.FS, Asm.GS, Asm.ES, Asm.CS, Asm.SS, Asm.DS}[g.nextInt(6)] : 0;
        long segBase = g.segBase(seg);
        long n = 1;
        if (rep != 0) {
            long current = addr32 ? g.r[RCX] & 0xffff_ffffL : g.r[RCX];
            if (current > 40 || current < 0 || g.chance(0.7)) {
                n = g.chance(0.1) ? 0 : 1 + g.nextInt(24);
                g.setReg(RCX, addr32 ? n | (g.chance(0.5) ? g.nextLong() << 32 : 0) : n);
            } else {
                n = current;
            }
        }
        boolean down = (g.rflags & Flags.DF) != 0;
        long span = Math.max(n, 1) * size;
        long src = 0;
        if (usesSi) {
            src = pointer(g, RSI, segBase, span, size, down, addr32, -1);
        }
        if (usesDi) {
            pointer(g, RDI, 0, span, size, down, addr32, op == 0xa6 && g.chance(0.25) ? src : -1);
        }
        Asm a = g.asm();
        if (seg != 0) {
            a.prefix(seg);
        }
        if (addr32) {
            a.prefix(0x67);
        }
        if (rep != 0) {
            a.prefix(rep);
        }
        a.size(size);
        if (size > 1) {
            g.vary(a, size);
        }
        a.op(op + (size == 1 ? 0 : 1));
        g.emit(a, (seg != 0 ? "seg " + Integer.toHexString(seg) + " " : "") + (addr32 ? "a32 " : "")
                + (rep != 0 ? "count " + n + " " : "") + (down ? "DF=1" : "DF=0"), 0);
    }

    /** Points RSI or RDI at {@code span} bytes in the data area (unless it already does); returns the address. */
    private static long pointer(Gen g, int reg, long segBase, long span, int size, boolean down, boolean addr32,
            long want) {
        long v = addr32 ? g.r[reg] & 0xffff_ffffL : g.r[reg];
        long ea = segBase + v;
        long low = down ? ea - span + size : ea;
        if (want < 0 && GuestLayout.inData(low, span) && g.chance(0.3)) {
            return ea;
        }
        long t = want >= 0 ? want : g.target((int) span + 16, size == 1 ? 1 : (g.chance(0.8) ? size : 1), true)
                + (down ? span - size : 0);
        long value = t - segBase;
        if (addr32) {
            value = (value & 0xffff_ffffL) | (g.chance(0.5) ? g.nextLong() << 32 : 0);
        }
        g.setReg(reg, value);
        return t;
    }

    // ===================================================================================== stack

    private static void stack(List<Form> f) {
        f.add(new Form("PUSH r64 (50+r)", "stack", g -> pushPopReg(g, 8, 0x50)));
        f.add(new Form("POP r64 (58+r)", "stack", g -> pushPopReg(g, 8, 0x58)));
        f.add(new Form("PUSH r16 (66 50+r)", "stack", g -> pushPopReg(g, 2, 0x50)));
        f.add(new Form("POP r16 (66 58+r)", "stack", g -> pushPopReg(g, 2, 0x58)));
        f.add(PUSH_IMM32);
        f.add(PUSH_IMM16);
        f.add(new Form("PUSH imm8 (6A)", "stack", g -> pushImm(g, 8, 1)));
        f.add(new Form("PUSH imm8 (66 6A)", "stack", g -> pushImm(g, 2, 1)));
        for (int size : new int[] {2, 8}) {
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("PUSH r/m" + b(size) + kind(mem), "stack", g -> {
                    g.ensureRsp();
                    Rm rm = g.regOrMem(mem, size, false);
                    Asm a = g.asm();
                    if (size == 2) {
                        a.prefix(0x66);
                    }
                    a.op(0xff).modrmDigit(6, rm);
                    g.emit(a, Gen.opd(size, rm), Ann.flags(0).mem(rm, size));
                }));
                f.add(new Form("POP r/m" + b(size) + kind(mem), "stack", g -> {
                    g.ensureRsp();
                    Rm rm = g.regOrMem(mem, size, false);
                    Asm a = g.asm();
                    if (size == 2) {
                        a.prefix(0x66);
                    }
                    a.op(0x8f).modrmDigit(0, rm);
                    g.emit(a, Gen.opd(size, rm), Ann.flags(0).mem(rm, size));
                }));
            }
        }
        f.add(new Form("PUSHF", "stack", g -> {
            g.ensureRsp();
            g.emit(g.asm().op(0x9c), "", 0);
        }));
        f.add(new Form("PUSHF (66: 16-bit)", "stack", g -> {
            g.ensureRsp();
            g.emit(g.asm().prefix(0x66).op(0x9c), "", 0);
        }));
        f.add(new Form("POPF", "stack", g -> popf(g, false)));
        f.add(new Form("POPF (66: 16-bit)", "stack", g -> popf(g, true)));
        f.add(new Form("ENTER imm16, imm8", "stack", Forms::enter));
        f.add(new Form("LEAVE", "stack", g -> {
            g.ensureRsp();
            long rbp = g.r[RBP];
            if (!GuestLayout.rspOk(rbp) || g.chance(0.2)) {
                g.setReg(RBP, g.r[RSP] + (g.nextInt(0x100) & (g.chance(0.8) ? -8 : -1)));
            }
            g.emit(g.asm().op(0xc9), "rbp " + Text.hex(g.r[RBP]), 0);
        }));
    }

    static void pushPopReg(Gen g, int size, int opcode) {
        g.ensureRsp();
        int reg = g.gpr();
        Asm a = g.asm().size(size == 2 ? 2 : 4);
        if (size == 8 && g.chance(0.1)) {
            a.w();
        }
        a.opReg(reg, opcode);
        g.emit(a, Text.reg(size, reg), 0);
    }

    static void pushImm(Gen g, int size, int immSize) {
        g.ensureRsp();
        long imm = g.imm(immSize);
        Asm a = g.asm();
        if (size == 2) {
            a.prefix(0x66);
        }
        a.op(immSize == 1 ? 0x6a : 0x68).imm(imm, immSize);
        g.emit(a, Text.hex(imm), 0);
    }

    /** POPF of a value whose IF, IOPL, TF and AC are the current ones (same effect at CPL0 and CPL3). */
    static void popf(Gen g, boolean word) {
        g.ensureRsp();
        long value = (g.rflags & ~Flags.POPF_SAFE & 0x3f_7fd7L & ~Flags.RF) | (g.nextLong() & Flags.POPF_SAFE) | 2;
        if (word) {
            g.pushImm16(value);
        } else {
            g.pushImm32(value);
        }
        Asm a = g.asm();
        if (word) {
            a.prefix(0x66);
        }
        g.emit(a.op(0x9d), Text.hex(word ? value & 0xffff : value) + " (" + Flags.describe(value) + ")", 0);
    }

    static void enter(Gen g) {
        g.ensureRsp();
        int level = g.chance(0.4) ? 0 : 1 + g.nextInt(5);
        if (g.chance(0.05)) {
            level += 32;
        }
        int size = g.chance(0.2) ? 0 : g.nextInt(0x200) & (g.chance(0.8) ? -8 : -1);
        long rbp = g.r[RBP];
        if ((level & 31) > 1 && (!GuestLayout.rspOk(rbp) || g.chance(0.2))) {
            g.setReg(RBP, g.r[RSP] + (g.nextInt(0x100) & -8));
        }
        Asm a = g.asm().op(0xc8).imm(size, 2).imm(level, 1);
        g.emit(a, size + ", " + level, 0);
    }

    // ===================================================================================== branches

    private static void branches(List<Form> f) {
        for (int cc = 0; cc < 16; cc++) {
            int c = cc;
            f.add(new Form("J" + CC[cc] + " rel8", "branch", g -> {
                int d = g.nextInt(40);
                g.emit(g.asm().op(0x70 + c).imm(d, 1), "+" + d, Ann.flags(0).rel(d));
            }));
            f.add(new Form("J" + CC[cc] + " rel32", "branch", g -> {
                int d = g.chance(0.1) ? g.nextInt(400) : g.nextInt(60);
                g.emit(g.asm().op(0x0f, 0x80 + c).imm(d, 4), "+" + d, Ann.flags(0).rel(d));
            }));
        }
        f.add(new Form("JMP rel8", "branch", g -> {
            int d = g.nextInt(40);
            g.emit(g.asm().op(0xeb).imm(d, 1), "+" + d, Ann.flags(0).rel(d));
        }));
        f.add(new Form("JMP rel32", "branch", g -> {
            int d = g.nextInt(100);
            g.emit(g.asm().op(0xe9).imm(d, 4), "+" + d, Ann.flags(0).rel(d));
        }));
        f.add(new Form("CALL rel32", "branch", g -> {
            g.ensureRsp();
            int d = g.chance(0.3) ? 0 : g.nextInt(60);
            g.emit(g.asm().op(0xe8).imm(d, 4), "+" + d, Ann.flags(0).rel(d));
        }));
        for (boolean mem : new boolean[] {false, true}) {
            f.add(new Form("JMP r/m64" + kind(mem), "branch", g -> indirect(g, false, mem)));
            f.add(new Form("CALL r/m64" + kind(mem), "branch", g -> indirect(g, true, mem)));
        }
        f.add(new Form("RET", "branch", g -> ret(g, false)));
        f.add(new Form("RET imm16", "branch", g -> ret(g, true)));
        f.add(new Form("JRCXZ rel8", "branch", g -> loop(g, 0xe3, false)));
        f.add(new Form("JECXZ rel8 (67)", "branch", g -> loop(g, 0xe3, true)));
        f.add(new Form("LOOP rel8", "branch", g -> loop(g, 0xe2, false)));
        f.add(new Form("LOOPE rel8", "branch", g -> loop(g, 0xe1, false)));
        f.add(new Form("LOOPNE rel8", "branch", g -> loop(g, 0xe0, false)));
        f.add(new Form("LOOP rel8 (67: ECX)", "branch", g -> loop(g, 0xe2, true)));
    }

    static void indirect(Gen g, boolean call, boolean mem) {
        if (call) {
            g.ensureRsp();
        }
        int d = g.nextInt(40);
        int digit = call ? 2 : 4;
        if (!mem) {
            int reg = g.gprExcept(1 << RSP);
            Rm rm = new Reg(reg);
            long main = g.pc + Gen.setReg32Length(reg);
            long target = main + new Asm(main).op(0xff).modrmDigit(digit, rm).bytes().length + d;
            g.setReg32(reg, target);
            Asm a = g.asm().op(0xff).modrmDigit(digit, rm);
            g.emit(a, Text.reg(8, reg) + " -> " + Text.hex(target), Ann.flags(0).target(target));
        } else {
            Mem m = g.mem(8, 1, 0, false);
            long main = g.pc + Gen.setMem64Length(g.pc, m);
            long target = main + new Asm(main).op(0xff).modrmDigit(digit, m).bytes().length + d;
            g.setMem64(m, target);
            Asm a = g.asm().op(0xff).modrmDigit(digit, m);
            g.emit(a, Gen.opd(8, m) + " -> " + Text.hex(target), Ann.flags(0).target(target).mem(m, 8));
        }
    }

    static void ret(Gen g, boolean imm) {
        g.ensureRsp();
        int d = g.nextInt(40);
        int n = g.chance(0.2) ? 0 : g.nextInt(0x40);
        long target = g.pc + 5 + (imm ? 3 : 1) + d;
        g.pushImm32(target);
        Asm a = g.asm();
        if (imm) {
            a.op(0xc2).imm(n, 2);
        } else {
            a.op(0xc3);
        }
        g.emit(a, (imm ? n + " " : "") + "-> " + Text.hex(target), Ann.flags(0).target(target));
    }

    static void loop(Gen g, int op, boolean addr32) {
        if (op == 0xe3 ? g.chance(0.5) : g.chance(0.3)) {
            long value = op == 0xe3 ? 0 : 1;
            g.setReg(RCX, addr32 ? value | (g.chance(0.7) ? g.nextLong() << 32 : 0) : value);
        }
        int d = g.nextInt(40);
        Asm a = g.asm();
        if (addr32) {
            a.prefix(0x67);
        }
        a.op(op).imm(d, 1);
        g.emit(a, "+" + d + " rcx " + Text.hex(g.r[RCX]), Ann.flags(0).rel(d));
    }

    // ===================================================================================== misc

    private static void misc(List<Form> f) {
        f.add(new Form("NOP", "misc", g -> g.emit(g.asm().op(0x90), "", 0)));
        f.add(new Form("NOP (66 90)", "misc", g -> g.emit(g.asm().prefix(0x66).op(0x90), "", 0)));
        f.add(new Form("PAUSE (F3 90)", "misc", g -> g.emit(g.asm().prefix(0xf3).op(0x90), "", 0)));
        for (int size : WIDE) {
            for (boolean mem : new boolean[] {false, true}) {
                f.add(new Form("NOP r/m" + b(size) + " (0F 1F /0)" + kind(mem), "misc", g -> {
                    Rm rm = mem ? g.memAny() : new Reg(g.gpr());
                    Asm a = g.asm().size(size).op(0x0f, 0x1f).modrmDigit(0, rm);
                    g.emit(a, rm instanceof Mem m ? m.toString() : Gen.opd(size, rm), 0);
                }));
            }
        }
        f.add(new Form("XLAT", "misc", Forms::xlat));
        faults(f);
    }

    // ===================================================================================== faults

    /** Opcodes that are #UD in 64-bit mode (PUSH/POP ES/CS/SS/DS, BCD, PUSHA/POPA, 82, far CALL/JMP, INTO, SALC). */
    private static final int[] INVALID_IN_64 = {0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f,
        0x60, 0x61, 0x82, 0x9a, 0xd4, 0xd5, 0xd6, 0xea};

    /** ADD r32, r32 behind redundant 66/segment prefixes: exactly 15 bytes (runs) or 16 to 18 (#GP). */
    static void longInstruction(Gen g, boolean tooLong) {
        int length = tooLong ? 16 + g.nextInt(3) : 15;
        int[] redundant = {0x2e, 0x3e, 0x26, 0x36};
        Asm a = g.asm().allowLong();
        boolean word = g.chance(0.5);
        for (int i = 0; i < length - 2; i++) {
            a.prefix(word && i == length - 3 ? 0x66 : redundant[g.nextInt(redundant.length)]);
        }
        a.op(0x01).modrm(g.nextInt(8), new Reg(g.nextInt(8)));
        g.emit(a, length + " bytes", 0);
    }

    private static void faults(List<Form> f) {
        f.add(new Form("INT3", "fault", g -> g.emit(g.asm().op(0xcc), "", 0)));
        f.add(new Form("INT imm8", "fault", g -> {
            // not INT 6: Unicorn reports it as an invalid opcode, RIP on the instruction (the host: after it)
            int v;
            do {
                v = g.nextInt(256);
            } while (v == 6);
            g.emit(g.asm().op(0xcd).imm(v, 1), Integer.toString(v), 0);
        }));
        f.add(new Form("UD2 (#UD)", "fault", g -> g.emit(g.asm().op(0x0f, 0x0b), "", 0)));
        f.add(new Form("INTO (#UD in 64-bit mode)", "fault", g -> g.emit(g.asm().op(0xce), "", 0)));
        f.add(new Form("opcode invalid in 64-bit mode (#UD)", "fault", g -> {
            int op = INVALID_IN_64[g.nextInt(INVALID_IN_64.length)];
            g.emit(g.asm().op(op), Text.hex(op), 0);
        }));
        f.add(new Form("LOCK with a register destination (#UD)", "fault", g -> {
            int size = WIDE[g.nextInt(3)];
            int op = g.nextInt(7);
            int src = g.gpr();
            int dst = g.gpr();
            if (op == 6 && src == dst) {
                // Unicorn runs LOCK XOR r, r (the zeroing idiom) without #UD; the host raises #UD
                dst = (src + 1) & 15;
            }
            Asm a = g.asm().prefix(0xf0).size(size).op(8 * op + 1).modrm(src, new Reg(dst));
            g.emit(a, "", 0);
        }));
        f.add(new Form("15-byte instruction (redundant prefixes)", "fault", g -> longInstruction(g, false)));
        f.add(new Form("instruction longer than 15 bytes (#GP)", "fault", g -> longInstruction(g, true)));
        f.add(new Form("LEA with a register operand (#UD)", "fault",
                g -> g.emit(g.asm().op(0x8d).modrm(g.gpr(), new Reg(g.gpr())), "", 0)));
        f.add(new Form("CMPXCHG8B with a register operand (#UD)", "fault",
                g -> g.emit(g.asm().op(0x0f, 0xc7).modrmDigit(1, new Reg(g.gpr())), "", 0)));
    }

    static void xlat(Gen g) {
        boolean addr32 = g.chance(0.15);
        int seg = g.chance(0.1) ? (g.chance(0.5) ? Asm.FS : Asm.GS) : 0;
        long segBase = g.segBase(seg);
        long al = g.r[RAX] & 0xff;
        long base = addr32 ? g.r[RBX] & 0xffff_ffffL : g.r[RBX];
        long ea = segBase + (addr32 ? (base + al) & 0xffff_ffffL : base + al);
        if (!GuestLayout.inData(ea, 1) || g.chance(0.3)) {
            long t = g.target(1, 1, true);
            long v = t - segBase - al;
            if (addr32) {
                v = (v & 0xffff_ffffL) | (g.chance(0.5) ? g.nextLong() << 32 : 0);
            }
            g.setReg(RBX, v);
        }
        Asm a = g.asm();
        if (seg != 0) {
            a.prefix(seg);
        }
        if (addr32) {
            a.prefix(0x67);
        }
        if (g.chance(0.2)) {
            a.w();
        }
        g.emit(a.op(0xd7), "al " + Text.hex(al), 0);
    }
}
