package dev.thaw.emulated.cpu;

/**
 * Binary arithmetic and logic (SDM vol. 1, 7.3.2 and 7.3.4): ADD, OR, ADC, SBB, AND, SUB, XOR, CMP in all
 * their forms (00-3F, groups 80-83), TEST, INC, DEC, NEG and NOT. A LOCK-prefixed form is a
 * compare-and-set loop on guest memory.
 */
final class Arith {

    static final int ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7;

    private Arith() {}

    /** {@code d op s} at {@code size}, setting the flags; CMP returns {@code d}. */
    static long compute(Cpu c, int op, long d, long s, int size) {
        long r;
        switch (op) {
            case ADD -> {
                r = d + s;
                Flags.add(c, d, s, r, size);
            }
            case OR -> {
                r = d | s;
                Flags.logic(c, r, size);
            }
            case ADC -> {
                int cin = Flags.cf(c);
                r = d + s + cin;
                Flags.adc(c, d, s, r, cin, size);
            }
            case SBB -> {
                int cin = Flags.cf(c);
                r = d - s - cin;
                Flags.sbb(c, d, s, r, cin, size);
            }
            case AND -> {
                r = d & s;
                Flags.logic(c, r, size);
            }
            case SUB -> {
                r = d - s;
                Flags.sub(c, d, s, r, size);
            }
            case XOR -> {
                r = d ^ s;
                Flags.logic(c, r, size);
            }
            default -> {
                Flags.sub(c, d, s, d - s, size);
                r = d;
            }
        }
        return r;
    }

    /** Opcodes 00-3D: the six forms of each operation. */
    static void primary(Cpu c, Insn i) {
        int op = i.op >>> 3;
        switch (i.op & 7) {
            case 0 -> rm(c, i, op, 1, Operands.readReg(c, i, 1));
            case 1 -> rm(c, i, op, i.opSize, Operands.readReg(c, i, i.opSize));
            case 2 -> reg(c, i, op, 1, Operands.readRm(c, i, 1));
            case 3 -> reg(c, i, op, i.opSize, Operands.readRm(c, i, i.opSize));
            case 4 -> acc(c, op, 1, i.imm);
            default -> acc(c, op, i.opSize, i.imm);
        }
    }

    /** Group 1 (80, 81, 82, 83): {@code op Eb/Ev, imm}. */
    static void group1(Cpu c, Insn i) {
        int size = (i.op & 1) == 0 ? 1 : i.opSize;
        rm(c, i, i.reg & 7, size, i.imm);
    }

    /** Destination r/m. */
    static void rm(Cpu c, Insn i, int op, int size, long s) {
        if (op == CMP) {
            compute(c, op, Operands.readRm(c, i, size), s, size);
        } else if (i.lock()) {
            locked(c, i, op, size, s);
        } else if (i.mod == 3) {
            int n = i.rm;
            c.setReg(size, n, i.hasRex, compute(c, op, c.reg(size, n, i.hasRex), s, size));
        } else {
            long d = Operands.rmwRead(c, i, size);
            Operands.rmwWrite(c, i, size, compute(c, op, d, s, size));
        }
    }

    private static void reg(Cpu c, Insn i, int op, int size, long s) {
        long r = compute(c, op, Operands.readReg(c, i, size), s, size);
        if (op != CMP) {
            Operands.writeReg(c, i, size, r);
        }
    }

    private static void acc(Cpu c, int op, int size, long s) {
        long r = compute(c, op, c.reg(size, Cpu.RAX, false), s, size);
        if (op != CMP) {
            c.setReg(size, Cpu.RAX, false, r);
        }
    }

    /** A LOCK-prefixed read-modify-write: retried until the memory did not change in between. */
    private static void locked(Cpu c, Insn i, int op, int size, long s) {
        long lin = Operands.lin(c, i, size, true);
        int saved = Flags.arith(c);
        long mask = Cpu.mask(size);
        while (true) {
            long d = c.mmu.rmwRead(lin, size, i.seg);
            long r = compute(c, op, d, s, size) & mask;
            if (c.mmu.rmwCas(d, r, size)) {
                return;
            }
            Flags.set(c, saved);
        }
    }

    // ---- TEST ----

    /** 84, 85: TEST r/m, reg. */
    static void testRmReg(Cpu c, Insn i) {
        int size = i.op == 0x84 ? 1 : i.opSize;
        Flags.logic(c, Operands.readRm(c, i, size) & Operands.readReg(c, i, size), size);
    }

    /** A8, A9: TEST AL/rAX, imm. */
    static void testAcc(Cpu c, Insn i) {
        int size = i.op == 0xa8 ? 1 : i.opSize;
        Flags.logic(c, c.reg(size, Cpu.RAX, false) & i.imm, size);
    }

    // ---- INC, DEC ----

    /** 40-4F outside 64-bit mode: INC/DEC r16/r32. */
    static void incDecReg(Cpu c, Insn i) {
        int n = i.op & 7;
        int size = i.opSize;
        long d = c.reg(size, n, false);
        long r;
        if (i.op < 0x48) {
            r = d + 1;
            Flags.inc(c, d, r, size);
        } else {
            r = d - 1;
            Flags.dec(c, d, r, size);
        }
        c.setReg(size, n, false, r);
    }

    /** FE/FF /0 /1: INC/DEC r/m. */
    static void incDecRm(Cpu c, Insn i, int size) {
        boolean inc = (i.reg & 7) == 0;
        if (i.lock()) {
            long lin = Operands.lin(c, i, size, true);
            int saved = Flags.arith(c);
            while (true) {
                long d = c.mmu.rmwRead(lin, size, i.seg);
                long r = incDec(c, inc, d, size) & Cpu.mask(size);
                if (c.mmu.rmwCas(d, r, size)) {
                    return;
                }
                Flags.set(c, saved);
            }
        }
        long d = Operands.rmwRead(c, i, size);
        Operands.rmwWrite(c, i, size, incDec(c, inc, d, size));
    }

    private static long incDec(Cpu c, boolean inc, long d, int size) {
        long r;
        if (inc) {
            r = d + 1;
            Flags.inc(c, d, r, size);
        } else {
            r = d - 1;
            Flags.dec(c, d, r, size);
        }
        return r;
    }

    // ---- NOT, NEG (group 3 /2 /3) ----

    static void notNeg(Cpu c, Insn i, int size) {
        boolean neg = (i.reg & 7) == 3;
        if (i.lock()) {
            long lin = Operands.lin(c, i, size, true);
            int saved = Flags.arith(c);
            while (true) {
                long d = c.mmu.rmwRead(lin, size, i.seg);
                long r = notNeg(c, neg, d, size) & Cpu.mask(size);
                if (c.mmu.rmwCas(d, r, size)) {
                    return;
                }
                Flags.set(c, saved);
            }
        }
        long d = Operands.rmwRead(c, i, size);
        Operands.rmwWrite(c, i, size, notNeg(c, neg, d, size));
    }

    private static long notNeg(Cpu c, boolean neg, long d, int size) {
        if (!neg) {
            return ~d;
        }
        long r = -d;
        Flags.sub(c, 0, d, r, size);
        return r;
    }
}
