package dev.thaw.emulated.cpu;

/**
 * The instruction forms that dominate integer code, picked out once when an instruction is decoded
 * ({@link #classify}) so that the run loop executes them through one small switch instead of the opcode
 * dispatch of {@link Executor}: moves, arithmetic, shifts by a constant and IMUL between 32- or 64-bit
 * registers, and Jcc. Each does exactly what the general path does for that form (flags included); an
 * instruction of any other form is {@link #NONE} and goes the general way.
 *
 * <p>Why: profiling the fill loop showed the general dispatch's large methods called, not inlined, for
 * every instruction, two or three deep; these forms make up most of what compiled integer code runs.
 */
final class RegisterForms {

    static final int NONE = 0, MOV = 1, ALU = 2, ALU_IMM = 3, TEST = 4, SHIFT_IMM = 5, IMUL = 6, JCC = 7;

    private RegisterForms() {}

    /**
     * The form of the freshly decoded {@code i}, setting its {@link Insn#dst}, {@link Insn#src} and
     * {@link Insn#aluOp} for it; {@link #NONE} for anything but the forms above.
     */
    static int classify(Insn i) {
        int op = i.op;
        if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
            return JCC;
        }
        if (i.mod != 3 || i.prefix != 0 || (i.opSize != 8 && i.opSize != 4)) {
            return NONE;
        }
        int aluOp = op >>> 3;
        switch (op) {
            case 0x89, 0x8b -> {
                return registers(i, op == 0x89, MOV, 0);
            }
            case 0x01, 0x09, 0x21, 0x29, 0x31, 0x39 -> {
                return registers(i, true, ALU, aluOp);
            }
            case 0x03, 0x0b, 0x23, 0x2b, 0x33, 0x3b -> {
                return registers(i, false, ALU, aluOp);
            }
            case 0x85 -> {
                return registers(i, true, TEST, 0);
            }
            case 0x1af -> {
                return registers(i, false, IMUL, 0);
            }
            case 0x81, 0x83 -> {
                int g = i.reg & 7;
                if (g == Arith.ADC || g == Arith.SBB) {
                    return NONE;
                }
                return registers(i, true, ALU_IMM, g);
            }
            case 0xc1 -> {
                int g = i.reg & 7;
                int count = (int) i.imm & (i.opSize == 8 ? 0x3f : 0x1f);
                if (g < Shifts.SHL || count == 0) {
                    return NONE;
                }
                i.imm = count;
                return registers(i, true, SHIFT_IMM, g);
            }
            default -> {
                return NONE;
            }
        }
    }

    private static int registers(Insn i, boolean toRm, int form, int aluOp) {
        i.dst = toRm ? i.rm : i.reg;
        i.src = toRm ? i.reg : i.rm;
        i.aluOp = aluOp;
        return form;
    }

    /** Executes {@code i}, whose {@link Insn#form} is not {@link #NONE}. */
    static void execute(Cpu c, Insn i) {
        long[] r = c.r;
        int size = i.opSize;
        switch (i.form) {
            case MOV -> r[i.dst] = size == 8 ? r[i.src] : r[i.src] & 0xffff_ffffL;
            case ALU -> alu(c, i.aluOp, i.dst, r[i.src], size);
            case ALU_IMM -> alu(c, i.aluOp, i.dst, i.imm, size);
            case TEST -> Flags.logic(c, r[i.dst] & r[i.src], size);
            case SHIFT_IMM -> write(r, i.dst, Shifts.shift(c, i.aluOp, r[i.dst], (int) i.imm, size), size);
            case IMUL -> imul(c, i.dst, r[i.dst], r[i.src], size);
            default -> Branch.jcc(c, i);
        }
    }

    private static void alu(Cpu c, int op, int dst, long s, int size) {
        long[] r = c.r;
        long d = r[dst];
        switch (op) {
            case Arith.ADD -> {
                long v = d + s;
                Flags.add(c, d, s, v, size);
                write(r, dst, v, size);
            }
            case Arith.SUB -> {
                long v = d - s;
                Flags.sub(c, d, s, v, size);
                write(r, dst, v, size);
            }
            case Arith.CMP -> Flags.sub(c, d, s, d - s, size);
            case Arith.AND -> logic(c, dst, d & s, size);
            case Arith.OR -> logic(c, dst, d | s, size);
            default -> logic(c, dst, d ^ s, size);
        }
    }

    private static void logic(Cpu c, int dst, long v, int size) {
        Flags.logic(c, v, size);
        write(c.r, dst, v, size);
    }

    private static void imul(Cpu c, int dst, long a, long b, int size) {
        long v;
        boolean overflow;
        if (size == 8) {
            v = a * b;
            overflow = Math.multiplyHigh(a, b) != (v >> 63);
        } else {
            v = (long) (int) a * (int) b;
            overflow = v != (int) v;
        }
        write(c.r, dst, v, size);
        Flags.result(c, v, size, overflow ? (int) (Cpu.CF | Cpu.OF) : 0);
    }

    /** A 64-bit write, or a 32-bit one that zeroes the upper half. */
    private static void write(long[] r, int n, long v, int size) {
        r[n] = size == 8 ? v : v & 0xffff_ffffL;
    }
}
