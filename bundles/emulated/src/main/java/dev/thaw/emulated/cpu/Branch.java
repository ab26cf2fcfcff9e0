package dev.thaw.emulated.cpu;

/**
 * Near control transfers (SDM vol. 1, 6.3 and 7.3.8): JMP, Jcc, CALL and RET (relative, indirect, RET
 * imm16), LOOP/LOOPE/LOOPNE and JCXZ/JECXZ/JRCXZ. The target is checked against the CS limit (or for
 * being canonical in 64-bit mode) by the branch itself, so a bad target faults at the branch.
 */
final class Branch {

    private Branch() {}

    /** Sets RIP to {@code target} truncated to the operand size, checking it. */
    static void jump(Cpu c, long target, int opSize) {
        if (c.mode64) {
            if (opSize != 8) {
                target &= Cpu.mask(opSize);
            }
            if (((target << 16) >> 16) != target) {
                throw CpuException.gp0();
            }
        } else {
            target &= opSize == 2 ? 0xffff : 0xffff_ffffL;
            if (target > c.segLimit[Cpu.CS]) {
                throw CpuException.gp0();
            }
        }
        c.rip = target;
    }

    /** 70-7F, 0F 80-8F: Jcc rel8/rel16/rel32. */
    static void jcc(Cpu c, Insn i) {
        if (Flags.cond(c, i.op & 0xf)) {
            jump(c, c.rip + i.imm, i.opSize);
        }
    }

    /** E9, EB: JMP rel. */
    static void jmpRel(Cpu c, Insn i) {
        jump(c, c.rip + i.imm, i.opSize);
    }

    /** E8: CALL rel. */
    static void callRel(Cpu c, Insn i) {
        long target = c.rip + i.imm;
        checkTarget(c, target, i.opSize);
        Operands.push(c, i.opSize, c.rip);
        jump(c, target, i.opSize);
    }

    /** FF /2: CALL r/m (64-bit in 64-bit mode). */
    static void callIndirect(Cpu c, Insn i) {
        int size = c.mode64 ? 8 : i.opSize;
        long target = Operands.readRm(c, i, size);
        checkTarget(c, target, size);
        Operands.push(c, size, c.rip);
        jump(c, target, size);
    }

    /** FF /4: JMP r/m. */
    static void jmpIndirect(Cpu c, Insn i) {
        int size = c.mode64 ? 8 : i.opSize;
        jump(c, Operands.readRm(c, i, size), size);
    }

    /** C3, C2: RET, RET imm16. */
    static void ret(Cpu c, Insn i) {
        int size = i.opSize;
        long target = Operands.peek(c, size, 0);
        jump(c, target, size);
        long release = i.op == 0xc2 ? i.imm : 0;
        Operands.setSp(c, c.r[Cpu.RSP] + size + release);
    }

    /** E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JrCXZ: the count register by address size. */
    static void loop(Cpu c, Insn i) {
        int as = i.addrSize;
        long count = c.r[Cpu.RCX] & Cpu.mask(as);
        boolean take;
        if (i.op == 0xe3) {
            take = count == 0;
        } else {
            count = (count - 1) & Cpu.mask(as);
            take = count != 0;
            if (i.op == 0xe1) {
                take &= Flags.zf(c);
            } else if (i.op == 0xe0) {
                take &= !Flags.zf(c);
            }
        }
        if (take) {
            jump(c, c.rip + i.imm, i.opSize);
        }
        if (i.op != 0xe3) {
            c.setReg(as, Cpu.RCX, false, count);
        }
    }

    private static void checkTarget(Cpu c, long target, int opSize) {
        if (c.mode64) {
            if (opSize == 8 && ((target << 16) >> 16) != target) {
                throw CpuException.gp0();
            }
        } else if ((target & (opSize == 2 ? 0xffff : 0xffff_ffffL)) > c.segLimit[Cpu.CS]) {
            throw CpuException.gp0();
        }
    }
}
