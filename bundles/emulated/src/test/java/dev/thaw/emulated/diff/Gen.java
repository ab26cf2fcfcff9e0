package dev.thaw.emulated.diff;

import static dev.thaw.emulated.diff.GuestLayout.DATA;
import static dev.thaw.emulated.diff.GuestLayout.DATA_SIZE;
import static dev.thaw.emulated.diff.GuestLayout.MARGIN;
import static dev.thaw.emulated.diff.GuestLayout.STACK;
import static dev.thaw.emulated.diff.GuestLayout.STACK_SIZE;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.thaw.emulated.diff.Asm.Mem;
import dev.thaw.emulated.diff.Asm.Reg;
import dev.thaw.emulated.diff.Asm.Rm;
import dev.thaw.emulated.diff.CpuUnderTest.CpuState;
import dev.thaw.emulated.diff.CpuUnderTest.OracleFix;
import dev.thaw.emulated.diff.CpuUnderTest.Semantics;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generates instructions one at a time from the oracle's current state ("online"): a form asks for
 * operands, and the generator picks them so that every memory access lands in the data or stack area
 * and every branch goes forward. It first tries addressing shapes that reach the data with the
 * registers' current values (random pointers, random garbage in the upper half under a 67 prefix);
 * if none does, it inserts a setup instruction (MOV reg, imm) that loads a base or index register,
 * and updates its shadow of the registers. Setup instructions are ordinary table forms and are
 * compared like any other.
 *
 * <p>Knowing the state also makes the undefined parts exact per instance: a shift's count, a BSF's
 * zero source, a 16-bit SHLD beyond 16 bits.
 */
final class Gen {

    static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

    private static final long[][] WINDOWS = {
        {DATA + MARGIN, DATA + DATA_SIZE - MARGIN},
        {STACK + MARGIN, STACK + STACK_SIZE - MARGIN},
    };

    /** How often a memory operand straddles a page boundary ({@code -Ddiff.pageCrossing=0.125}). */
    static final double PAGE_CROSSING = Double.parseDouble(System.getProperty("diff.pageCrossing", "0.125"));

    final SplittableRandom rnd;
    /** Shadow of the general registers: the oracle's values plus the effect of setups emitted so far. */
    final long[] r = new long[16];
    long rflags;
    long fsBase;
    long gsBase;
    private MemorySegment memory;
    /** Where the next instruction goes. */
    long pc;
    private final List<Insn> out = new ArrayList<>();
    private Form form;
    /** Set by a form for the rest of its instance: no RIP-relative memory operands. */
    boolean avoidRip;

    Gen(SplittableRandom rnd) {
        this.rnd = rnd;
    }

    /** Starts generating an instance of {@code f} at the oracle's state and memory (read only). */
    List<Insn> generate(Form f, CpuState s, MemorySegment oracleMemory) {
        form = f;
        for (int i = 0; i < 16; i++) {
            r[i] = s.gpr(i);
        }
        rflags = s.rflags();
        fsBase = s.fsBase();
        gsBase = s.gsBase();
        pc = s.rip();
        memory = oracleMemory;
        avoidRip = false;
        out.clear();
        f.emitter().emit(this);
        if (out.isEmpty() || out.getLast().setup()) {
            throw new IllegalStateException(f.name() + " emitted no instruction");
        }
        return List.copyOf(out);
    }

    // ---- randomness ----

    boolean chance(double p) {
        return rnd.nextDouble() < p;
    }

    int nextInt(int bound) {
        return rnd.nextInt(bound);
    }

    long nextLong() {
        return rnd.nextLong();
    }

    static long mask(int size) {
        return size == 8 ? -1L : (1L << (8 * size)) - 1;
    }

    /** A random immediate of {@code size} bytes (edge values a fifth of the time), zero-extended. */
    long imm(int size) {
        long m = mask(size);
        if (chance(0.2)) {
            long[] special = {0, 1, m, m >>> 1, (m >>> 1) + 1, 2, m - 1};
            return special[nextInt(special.length)] & m;
        }
        return nextLong() & m;
    }

    // ---- registers ----

    /** Any of the 16 general registers. */
    int gpr() {
        return nextInt(16);
    }

    /** A general register not in {@code excluded} (bit mask). */
    int gprExcept(int excluded) {
        int n;
        do {
            n = nextInt(16);
        } while ((excluded & (1 << n)) != 0);
        return n;
    }

    /**
     * A register operand of {@code size}. With {@code legacy} (no REX prefix allowed: the instruction
     * uses AH..BH or may), byte registers come from AL..BL and AH..BH and others from the first eight.
     */
    int reg(int size, boolean legacy) {
        if (size == 1) {
            if (legacy) {
                int n = nextInt(8);
                return n < 4 ? n : Asm.AH + n - 4;
            }
            return nextInt(16);
        }
        return legacy ? nextInt(8) : nextInt(16);
    }

    /** For byte forms: whether this instance uses the no-REX register set (AH..BH possible). */
    boolean legacyBytes(int size) {
        return size == 1 && chance(0.3);
    }

    /** A register or memory operand. */
    Rm regOrMem(boolean mem, int size, boolean legacy) {
        return mem ? mem(size, 1, 0, legacy) : new Reg(reg(size, legacy));
    }

    /** A register's value at {@code size}, zero-extended (byte codes AH..BH are bits 15:8). */
    long val(int size, int code) {
        if (size == 1 && code >= Asm.AH) {
            return (r[code - Asm.AH] >>> 8) & 0xff;
        }
        return r[code] & mask(size);
    }

    /** The value of an r/m operand before the instruction. */
    long val(int size, Rm rm) {
        return rm instanceof Reg reg ? val(size, reg.code()) : readMem(((Mem) rm).ea(), size);
    }

    long readMem(long address, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | (memory.get(JAVA_BYTE, address + i) & 0xff);
        }
        return v;
    }

    static long sext(long v, int size) {
        int shift = 64 - 8 * size;
        return v << shift >> shift;
    }

    // ---- memory operands ----

    private record Shape(int base, int index, int scale, int dispSize, int seg, boolean addr32, boolean forceSib,
            boolean rip) {}

    /** The segment base a prefix adds (FS and GS only: the others are ignored in 64-bit mode). */
    long segBase(int seg) {
        return seg == Asm.FS ? fsBase : seg == Asm.GS ? gsBase : 0;
    }

    private int seg() {
        double x = rnd.nextDouble();
        if (x < 0.80) {
            return 0;
        }
        if (x < 0.85) {
            return Asm.FS;
        }
        if (x < 0.90) {
            return Asm.GS;
        }
        int[] ignored = {Asm.ES, Asm.CS, Asm.SS, Asm.DS};
        return ignored[nextInt(4)];
    }

    private Shape shape(int exclude, boolean noRex, boolean forSetup) {
        int limit = noRex ? 8 : 16;
        int seg = seg();
        boolean addr32 = chance(0.06);
        double k = rnd.nextDouble();
        int scale = 1 << nextInt(4);
        if (k < 0.12 && !avoidRip) {
            return new Shape(Asm.NONE, Asm.NONE, 1, 4, seg, addr32, false, true);
        }
        if (k < 0.12) {
            k = 0.13;
        }
        if (k < 0.16) {
            return new Shape(Asm.NONE, Asm.NONE, scale, 4, seg, addr32, false, false);
        }
        int index = Asm.NONE;
        int base = Asm.NONE;
        if (k < 0.22 || k >= 0.62) {
            do {
                index = nextInt(limit);
            } while (index == RSP || (exclude & (1 << index)) != 0);
        }
        if (k >= 0.22) {
            do {
                base = nextInt(limit);
            } while ((exclude & (1 << base)) != 0 || (forSetup && base == index));
        }
        int dispSize;
        if (base == Asm.NONE) {
            dispSize = 4;
        } else {
            double d = rnd.nextDouble();
            dispSize = d < 0.3 && (base & 7) != 5 ? 0 : d < 0.65 ? 1 : 4;
        }
        boolean forceSib = base != Asm.NONE && index == Asm.NONE && (base & 7) != 4 && chance(0.1);
        return new Shape(base, index, scale, dispSize, seg, addr32, forceSib, false);
    }

    private static long eaOf(long partial, long disp, long segBase, boolean addr32) {
        return addr32 ? segBase + ((partial + disp) & 0xffff_ffffL) : segBase + partial + disp;
    }

    private long partial(Shape s) {
        long p = 0;
        if (s.base >= 0) {
            p += r[s.base];
        }
        if (s.index >= 0) {
            p += r[s.index] * s.scale;
        }
        return s.addr32 ? p & 0xffff_ffffL : p;
    }

    private Mem mem(Shape s, long disp, long ea, long ripTarget) {
        return new Mem(s.rip ? Asm.RIP : s.base, s.index, s.scale, s.dispSize, disp, s.seg, s.addr32, s.forceSib,
                ripTarget, ea);
    }

    /**
     * A random {@code align}-aligned address with {@code size} bytes inside one of the areas; one in
     * eight straddles a 4 KiB page boundary (if alignment allows).
     */
    long target(int size, int align, boolean dataOnly) {
        long[] w = dataOnly || chance(0.85) ? WINDOWS[0] : WINDOWS[1];
        long t = w[0] + 16 + rnd.nextLong(w[1] - w[0] - size - 32);
        if (size > align && chance(PAGE_CROSSING)) {
            long page = (t + 0xfff) & ~0xfffL;
            if (page + size < w[1]) {
                t = page - 1 - nextInt(size - 1);
            }
        }
        return t & -align;
    }

    /**
     * A memory operand for an access of {@code size} bytes aligned to {@code align}, inside the data
     * or stack area, whose address registers are not in {@code exclude}; with {@code noRex} only the
     * first eight registers address it. May emit setup instructions.
     */
    Mem mem(int size, int align, int exclude, boolean noRex) {
        for (int attempt = 0; attempt < 3; attempt++) {
            Mem m = solve(shape(exclude, noRex, false), size, align);
            if (m != null) {
                return m;
            }
        }
        while (true) {
            Mem m = solveBySetup(shape(exclude | (1 << RSP), noRex, true), size, align);
            if (m != null) {
                return m;
            }
        }
    }

    private Mem solve(Shape s, int size, int align) {
        long segBase = segBase(s.seg);
        if (s.rip || (s.base == Asm.NONE && s.index == Asm.NONE)) {
            long t = target(size, align, false);
            long rel = t - segBase;
            if (s.addr32 && (rel < 0 || rel > 0xffff_ffffL)) {
                return null;
            }
            return s.rip ? mem(s, 0, t, rel) : mem(s, rel, t, 0);
        }
        long partial = partial(s);
        long dmin = s.dispSize == 0 ? 0 : s.dispSize == 1 ? -128 : Integer.MIN_VALUE;
        long dmax = s.dispSize == 0 ? 0 : s.dispSize == 1 ? 127 : Integer.MAX_VALUE;
        int first = chance(0.8) ? 0 : 1;
        for (int w = 0; w < 2; w++) {
            long[] win = WINDOWS[(first + w) & 1];
            long lo = win[0];
            long hi = win[1] - size;
            long d0 = s.addr32 ? (int) (lo - segBase - partial) : lo - segBase - partial;
            long d1 = d0 + (hi - lo);
            if (d1 < d0) {
                d1 = Long.MAX_VALUE;
            }
            long a = Math.max(d0, dmin);
            long b = Math.min(d1, dmax);
            if (a > b) {
                continue;
            }
            long disp = a + rnd.nextLong(b - a + 1);
            long ea = eaOf(partial, disp, segBase, s.addr32);
            long off = ea & (align - 1);
            if (off != 0) {
                disp -= off;
                if (disp < a) {
                    disp += align;
                }
                if (disp > b) {
                    continue;
                }
                ea = eaOf(partial, disp, segBase, s.addr32);
            }
            if (ea < lo || ea > hi || (ea & (align - 1)) != 0) {
                continue;
            }
            return mem(s, disp, ea, 0);
        }
        return null;
    }

    private Mem solveBySetup(Shape s, int size, int align) {
        if (s.rip || (s.base == Asm.NONE && s.index == Asm.NONE)) {
            return solve(s, size, align);
        }
        boolean viaBase = s.base >= 0 && s.base != RSP;
        if (!viaBase && s.index < 0) {
            return null;
        }
        long segBase = segBase(s.seg);
        long disp = switch (s.dispSize) {
            case 0 -> 0;
            case 1 -> nextInt(256) - 128;
            default -> chance(0.5) ? nextInt(8192) - 4096 : (int) nextLong();
        };
        long t = target(size, Math.max(align, 8), true) + (align < 8 ? nextInt(8) & -align : 0);
        long v;
        int reg;
        if (viaBase) {
            reg = s.base;
            long other = s.index >= 0 ? r[s.index] * s.scale : 0;
            v = t - segBase - disp - other;
            if (s.addr32) {
                v = (v & 0xffff_ffffL) | (chance(0.5) ? nextLong() << 32 : 0);
            }
        } else {
            reg = s.index;
            long other = s.base >= 0 ? r[s.base] : 0;
            long x = t - segBase - disp - other;
            long low = x & (s.scale - 1);
            t -= low;
            x -= low;
            int shift = Integer.numberOfTrailingZeros(s.scale);
            if (s.addr32) {
                v = ((x & 0xffff_ffffL) >>> shift) | (chance(0.5) ? nextLong() << 32 : 0);
            } else {
                v = x >> shift;
            }
            if ((t & (align - 1)) != 0) {
                return null;
            }
        }
        setReg(reg, v);
        long ea = eaOf(partial(s), disp, segBase, s.addr32);
        if (ea != t) {
            throw new IllegalStateException("address setup missed: " + Text.hex(ea) + " != " + Text.hex(t));
        }
        return mem(s, disp, ea, 0);
    }

    /** A memory operand that is never accessed (LEA, NOP r/m): any shape, any registers, any displacement. */
    Mem memAny() {
        Shape s = shape(0, false, false);
        if (s.rip) {
            long target = pc + nextInt(1 << 20) - (1 << 19);
            return mem(s, 0, target, target);
        }
        long disp = s.dispSize == 0 ? 0 : s.dispSize == 1 ? nextInt(256) - 128 : (int) nextLong();
        return mem(s, disp, eaOf(partial(s), disp, 0, s.addr32), 0);
    }

    // ---- setup instructions ----

    /**
     * Loads a full register with the shortest MOV that fits, sometimes a longer one (each is a
     * compared form of its own).
     */
    void setReg(int reg, long value) {
        Asm a = asm();
        String ops;
        Form f;
        if (value >>> 32 == 0 && chance(0.6)) {
            a.opReg(reg, 0xb8).imm(value, 4);
            f = Forms.MOV_R32_IMM32;
            ops = Text.reg(4, reg) + ", " + Text.hex(value);
        } else if (value == (int) value) {
            a.w().op(0xc7).modrmDigit(0, new Reg(reg)).imm(value, 4);
            f = Forms.MOV_RM64_IMM32;
            ops = Text.reg(8, reg) + ", " + Text.hex(value);
        } else {
            a.w().opReg(reg, 0xb8).imm(value, 8);
            f = Forms.MOV_R64_IMM64;
            ops = Text.reg(8, reg) + ", " + Text.hex(value);
        }
        setup(a, f, ops);
        r[reg] = value;
    }

    /** MOV r32, imm32 (5 bytes, 6 with REX.B): a setup whose length does not depend on the value. */
    void setReg32(int reg, long value) {
        Asm a = asm().opReg(reg, 0xb8).imm(value, 4);
        setup(a, Forms.MOV_R32_IMM32, Text.reg(4, reg) + ", " + Text.hex(value));
        r[reg] = value & 0xffff_ffffL;
    }

    static int setReg32Length(int reg) {
        return reg >= 8 ? 6 : 5;
    }

    /** Writes the low {@code size} bytes of a register (byte codes AH..BH too), keeping the rest. */
    void setPart(int size, int code, long value) {
        if (size == 1 && code >= Asm.AH) {
            int full = code - Asm.AH;
            setReg(full, (r[full] & ~0xff00L) | (value & 0xff) << 8);
        } else {
            setReg(code, (r[code] & ~mask(size)) | (value & mask(size)));
        }
    }

    /** MOV qword [m], imm32 (sign-extended): a setup that stores a value the next instruction reads. */
    void setMem64(Mem m, long value) {
        Asm a = asm().w().op(0xc7).modrmDigit(0, m).imm(value, 4);
        setup(a, Forms.MOV_RM64_IMM32_MEM, "qword " + m + ", " + Text.hex(value));
    }

    static int setMem64Length(long address, Mem m) {
        return new Asm(address).w().op(0xc7).modrmDigit(0, m).imm(0, 4).bytes().length;
    }

    /** PUSH imm32 (5 bytes): a setup that puts a value on the stack for RET or POPF. */
    void pushImm32(long value) {
        Asm a = asm().op(0x68).imm(value, 4);
        setup(a, Forms.PUSH_IMM32, Text.hex(value));
        r[RSP] -= 8;
    }

    /** PUSH imm16 (66 68 iw): the 16-bit push, a setup for POPF16. */
    void pushImm16(long value) {
        Asm a = asm().prefix(0x66).op(0x68).imm(value, 2);
        setup(a, Forms.PUSH_IMM16, Text.hex(value & 0xffff));
        r[RSP] -= 2;
    }

    /** Moves RSP into the middle of the stack area if it is not well inside it (after POP RSP, MOV RSP...). */
    void ensureRsp() {
        if (!GuestLayout.rspOk(r[RSP])) {
            long v = STACK + GuestLayout.RSP_MARGIN + 0x1000
                    + rnd.nextLong(STACK_SIZE - 2 * GuestLayout.RSP_MARGIN - 0x2000);
            setReg(RSP, chance(0.9) ? v & -8 : v);
        }
    }

    // ---- emission ----

    /** An encoder at the current address; create it after all setups of the instruction. */
    Asm asm() {
        return new Asm(pc);
    }

    /** Undefined parts and control flow of one instance. */
    static final class Ann {
        long flags;
        int regs;
        long memAt;
        int memLength;
        long target = -1;
        long rel = -1;
        Semantics fallback;
        OracleFix oracleFix;
        Mem mem;
        int memSize;

        static Ann flags(long undefinedFlags) {
            Ann a = new Ann();
            a.flags = undefinedFlags;
            return a;
        }

        Ann reg(int n) {
            regs |= 1 << n;
            return this;
        }

        Ann undefinedMem(long at, int length) {
            memAt = at;
            memLength = length;
            return this;
        }

        /** A branch that may go to {@code next + displacement}. */
        Ann rel(long displacement) {
            rel = displacement;
            return this;
        }

        /** A branch that goes to {@code target} (absolute). */
        Ann target(long address) {
            target = address;
            return this;
        }

        Ann fallback(Semantics s) {
            fallback = s;
            return this;
        }

        Ann oracleFix(OracleFix f) {
            oracleFix = f;
            return this;
        }

        Ann mem(Rm rm, int size) {
            if (rm instanceof Mem m) {
                mem = m;
                memSize = size;
            }
            return this;
        }
    }

    Insn emit(Asm a, String operands, long undefinedFlags) {
        return emit(a, operands, Ann.flags(undefinedFlags));
    }

    Insn emit(Asm a, String operands, Ann ann) {
        return add(a, form, false, operands, ann);
    }

    private void setup(Asm a, Form f, String operands) {
        add(a, f, true, operands, Ann.flags(0));
    }

    private Insn add(Asm a, Form f, boolean setup, String operands, Ann ann) {
        if (a.address() != pc) {
            throw new IllegalStateException(form.name() + ": encoder made before a setup instruction");
        }
        byte[] bytes = a.bytes();
        long next = pc + bytes.length;
        long[] exits;
        if (ann.rel >= 0) {
            exits = ann.rel == 0 ? new long[] {next} : new long[] {next, next + ann.rel};
        } else if (ann.target >= 0) {
            exits = new long[] {ann.target};
        } else {
            exits = new long[] {next};
        }
        byte[] before = null;
        long memAddress = -1;
        if (ann.mem != null) {
            memAddress = ann.mem.ea();
            if (memAddress >= GuestLayout.WATCHED
                    && memAddress + ann.memSize <= GuestLayout.WATCHED + GuestLayout.WATCHED_SIZE) {
                before = memory.asSlice(memAddress, ann.memSize).toArray(JAVA_BYTE);
            }
        }
        Insn insn = new Insn(pc, bytes, f, setup, operands, exits, ann.flags, ann.regs, ann.memAt, ann.memLength,
                ann.fallback, ann.oracleFix, memAddress, before);
        out.add(insn);
        pc = next;
        return insn;
    }

    // ---- descriptions ----

    static String sizeName(int size) {
        return switch (size) {
            case 1 -> "byte";
            case 2 -> "word";
            case 4 -> "dword";
            case 8 -> "qword";
            default -> size + "-byte";
        };
    }

    static String opd(int size, Rm rm) {
        if (rm instanceof Reg reg) {
            return Text.reg(size, reg.code());
        }
        Mem m = (Mem) rm;
        return sizeName(size) + " " + m + " (ea " + Text.hex(m.ea()) + ")";
    }

    /**
     * Redundant prefixes a decoder must accept: an empty REX, 66 beside REX.W, a second 66, or a stray
     * REX before the real one (only the last REX counts).
     */
    void vary(Asm a, int size) {
        double x = rnd.nextDouble();
        if (size == 8 && x < 0.04) {
            a.optionalPrefix(0x66);
        } else if (size == 2 && x < 0.03) {
            a.optionalPrefix(0x66);
        } else if (size != 1 && x < 0.09) {
            a.rex();
        }
        if (chance(0.03)) {
            a.extraRex(0x40 | nextInt(16));
        }
    }
}
