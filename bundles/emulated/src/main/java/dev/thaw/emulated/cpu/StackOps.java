package dev.thaw.emulated.cpu;

/**
 * Stack instructions (SDM vol. 1, 6.2 and 7.3.1.4): PUSH and POP of registers, memory, immediates and
 * segment registers, PUSHA/POPA, PUSHF/POPF with their privilege rules, ENTER and LEAVE. Every form
 * leaves RSP unchanged when it faults.
 */
final class StackOps {

    private StackOps() {}

    /** 50-57: PUSH r. */
    static void pushReg(Cpu c, Insn i) {
        int n = (i.op & 7) | ((i.rex & 1) << 3);
        Operands.push(c, i.opSize, c.r[n]);
    }

    /** 58-5F: POP r. */
    static void popReg(Cpu c, Insn i) {
        int n = (i.op & 7) | ((i.rex & 1) << 3);
        long v = Operands.pop(c, i.opSize);
        c.setReg(i.opSize, n, false, v);
    }

    /** 68, 6A: PUSH imm (sign-extended). */
    static void pushImm(Cpu c, Insn i) {
        Operands.push(c, i.opSize, i.imm);
    }

    /** FF /6: PUSH r/m. */
    static void pushRm(Cpu c, Insn i) {
        int size = c.mode64 ? (i.opSize == 2 ? 2 : 8) : i.opSize;
        Operands.push(c, size, Operands.readRm(c, i, size));
    }

    /** 8F /0: POP r/m (an RSP-based address is computed after the increment). */
    static void popRm(Cpu c, Insn i) {
        if ((i.reg & 7) != 0) {
            throw CpuException.ud();
        }
        int size = i.opSize;
        long oldSp = c.r[Cpu.RSP];
        long v = Operands.pop(c, size);
        try {
            Operands.writeRm(c, i, size, v);
        } catch (CpuException e) {
            c.r[Cpu.RSP] = oldSp;
            throw e;
        }
    }

    /** PUSH ES/CS/SS/DS/FS/GS: the selector, zero-extended to the operand size. */
    static void pushSeg(Cpu c, Insn i, int seg) {
        Operands.push(c, i.opSize, c.segSel[seg]);
    }

    /** POP ES/SS/DS/FS/GS: loads the segment with its checks; POP SS starts an interrupt shadow. */
    static void popSeg(Cpu c, Insn i, int seg) {
        long sel = Operands.peek(c, i.opSize, 0) & 0xffff;
        Segments.loadSegment(c, seg, (int) sel);
        Operands.setSp(c, c.r[Cpu.RSP] + i.opSize);
        if (seg == Cpu.SS) {
            c.shadow = Cpu.SHADOW_MOV_SS;
        }
    }

    /** 60: PUSHA/PUSHAD. */
    static void pusha(Cpu c, Insn i) {
        int size = i.opSize;
        long sp = c.r[Cpu.RSP];
        long mask = Operands.stackMask(c);
        for (int n = 0; n < 8; n++) {
            long v = n == Cpu.RSP ? sp : c.r[n];
            Operands.writeMem(c, Cpu.SS, (sp - (n + 1L) * size) & mask, size, v);
        }
        Operands.setSp(c, sp - 8L * size);
    }

    /** 61: POPA/POPAD (the stored SP is skipped). */
    static void popa(Cpu c, Insn i) {
        int size = i.opSize;
        long sp = c.r[Cpu.RSP];
        long mask = Operands.stackMask(c);
        long[] v = new long[8];
        for (int n = 0; n < 8; n++) {
            v[7 - n] = Operands.readMem(c, Cpu.SS, (sp + (long) n * size) & mask, size);
        }
        for (int n = 0; n < 8; n++) {
            if (n != Cpu.RSP) {
                c.setReg(size, n, false, v[n]);
            }
        }
        Operands.setSp(c, sp + 8L * size);
    }

    /** 9C: PUSHF (RF and VM cleared in the image). */
    static void pushf(Cpu c, Insn i) {
        if ((c.rflagsOther & Cpu.VM) != 0 && c.iopl() < 3) {
            throw CpuException.gp0();
        }
        Operands.push(c, i.opSize, c.rflags() & ~(Cpu.RF | Cpu.VM));
    }

    /** 9D: POPF, changing only the flags the privilege allows. */
    static void popf(Cpu c, Insn i) {
        if ((c.rflagsOther & Cpu.VM) != 0 && c.iopl() < 3) {
            throw CpuException.gp0();
        }
        int size = i.opSize;
        long v = Operands.peek(c, size, 0);
        long mask = Cpu.CF | Cpu.PF | Cpu.AF | Cpu.ZF | Cpu.SF | Cpu.TF | Cpu.DF | Cpu.OF | Cpu.NT | Cpu.AC
                | Cpu.ID;
        if (!c.protectedMode || c.cpl == 0) {
            mask |= Cpu.IOPL | Cpu.IF;
        } else if (c.cpl <= c.iopl()) {
            mask |= Cpu.IF;
        }
        if (size == 2) {
            mask &= 0xffff;
        }
        Operands.setSp(c, c.r[Cpu.RSP] + size);
        writeFlags(c, v, mask);
    }

    /** RFLAGS = (RFLAGS & ~mask) | (v & mask), RF cleared; notices IF going to 1. */
    static void writeFlags(Cpu c, long v, long mask) {
        long old = c.rflags();
        long nf = ((old & ~mask) | (v & mask)) & ~Cpu.RF;
        c.setRflags(nf);
        if ((nf & Cpu.IF) != 0 && (old & Cpu.IF) == 0) {
            c.checkInterrupts = true;
        }
    }

    /** C8: ENTER imm16, imm8. */
    static void enter(Cpu c, Insn i) {
        int size = i.opSize;
        int level = (int) i.imm2 & 31;
        long oldSp = c.r[Cpu.RSP];
        long oldBp = c.r[Cpu.RBP];
        try {
            Operands.push(c, size, c.r[Cpu.RBP]);
            long frame = c.r[Cpu.RSP];
            if (level > 0) {
                long bp = c.r[Cpu.RBP];
                long mask = Operands.stackMask(c);
                for (int k = 1; k < level; k++) {
                    bp -= size;
                    Operands.push(c, size, Operands.readMem(c, Cpu.SS, bp & mask, size));
                }
                Operands.push(c, size, frame);
            }
            long newSp = c.r[Cpu.RSP] - i.imm;
            // the final stack pointer must be writable
            if (i.imm != 0) {
                Operands.linear(c, Cpu.SS, newSp & Operands.stackMask(c), 1, true);
            }
            c.setReg(size, Cpu.RBP, false, frame);
            Operands.setSp(c, newSp);
        } catch (CpuException e) {
            c.r[Cpu.RSP] = oldSp;
            c.r[Cpu.RBP] = oldBp;
            throw e;
        }
    }

    /** C9: LEAVE. */
    static void leave(Cpu c, Insn i) {
        int size = i.opSize;
        long mask = Operands.stackMask(c);
        long bp = c.r[Cpu.RBP] & mask;
        long v = Operands.readMem(c, Cpu.SS, bp, size);
        Operands.setSp(c, bp + size);
        c.setReg(size, Cpu.RBP, false, v);
    }
}
