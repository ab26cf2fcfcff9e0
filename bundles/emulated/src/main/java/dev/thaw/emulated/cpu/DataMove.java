package dev.thaw.emulated.cpu;

/**
 * Data transfer and conversion (SDM vol. 1, 7.3.1 and 7.3.9-7.3.14): MOV in its general-register forms,
 * MOVZX, MOVSX, MOVSXD, LEA, CBW/CWDE/CDQE, CWD/CDQ/CQO, CMOVcc, SETcc, XLAT, LAHF/SAHF, the flag
 * instructions CLC/STC/CMC/CLD/STD, and MOVBE.
 */
final class DataMove {

    private DataMove() {}

    /** 88-8B: MOV between r/m and a register. */
    static void mov(Cpu c, Insn i) {
        int size = (i.op & 1) == 0 ? 1 : i.opSize;
        if ((i.op & 2) == 0) {
            Operands.writeRm(c, i, size, Operands.readReg(c, i, size));
        } else {
            Operands.writeReg(c, i, size, Operands.readRm(c, i, size));
        }
    }

    /** A0-A3: MOV between AL/rAX and a memory offset. */
    static void movMoffs(Cpu c, Insn i) {
        int size = (i.op & 1) == 0 ? 1 : i.opSize;
        if (i.op < 0xa2) {
            c.setReg(size, Cpu.RAX, false, Operands.readRm(c, i, size));
        } else {
            Operands.writeRm(c, i, size, c.reg(size, Cpu.RAX, false));
        }
    }

    /** B0-BF: MOV register, immediate. */
    static void movImm(Cpu c, Insn i) {
        int n = (i.op & 7) | ((i.rex & 1) << 3);
        if (i.op < 0xb8) {
            c.setReg(1, n, i.hasRex, i.imm);
        } else {
            c.setReg(i.opSize, n, false, i.imm);
        }
    }

    /** C6 /0, C7 /0: MOV r/m, immediate. */
    static void movRmImm(Cpu c, Insn i) {
        if ((i.reg & 7) != 0) {
            throw CpuException.ud();
        }
        int size = i.op == 0xc6 ? 1 : i.opSize;
        Operands.writeRm(c, i, size, i.imm);
    }

    /** 0F B6/B7 MOVZX, 0F BE/BF MOVSX. */
    static void movx(Cpu c, Insn i) {
        int src = (i.op & 1) == 0 ? 1 : 2;
        long v = Operands.readRm(c, i, src);
        if (i.op >= 0x1be) {
            v = Cpu.sext(v, src);
        }
        Operands.writeReg(c, i, i.opSize, v);
    }

    /** 63 in 64-bit mode: MOVSXD (with a 32-bit operand size it is a plain 32-bit move). */
    static void movsxd(Cpu c, Insn i) {
        long v = Operands.readRm(c, i, 4);
        Operands.writeReg(c, i, i.opSize, i.opSize == 8 ? (int) v : v);
    }

    /** 8D: LEA (the address computed at the address size, then truncated to the operand size). */
    static void lea(Cpu c, Insn i) {
        if (i.mod == 3) {
            throw CpuException.ud();
        }
        Operands.writeReg(c, i, i.opSize, Operands.ea(c, i));
    }

    /** 98: CBW, CWDE, CDQE. */
    static void cbw(Cpu c, Insn i) {
        int size = i.opSize;
        c.setReg(size, Cpu.RAX, false, Cpu.sext(c.r[Cpu.RAX], size >> 1));
    }

    /** 99: CWD, CDQ, CQO. */
    static void cwd(Cpu c, Insn i) {
        int size = i.opSize;
        long sign = Cpu.sext(c.r[Cpu.RAX], size) < 0 ? -1L : 0;
        c.setReg(size, Cpu.RDX, false, sign);
    }

    /** 0F 40-4F: CMOVcc (the source is read, and a 32-bit destination zero-extended, either way). */
    static void cmov(Cpu c, Insn i) {
        int size = i.opSize;
        long v = Operands.readRm(c, i, size);
        if (Flags.cond(c, i.op & 0xf)) {
            Operands.writeReg(c, i, size, v);
        } else if (size == 4) {
            Operands.writeReg(c, i, 4, Operands.readReg(c, i, 4));
        }
    }

    /** 0F 90-9F: SETcc r/m8. */
    static void setcc(Cpu c, Insn i) {
        Operands.writeRm(c, i, 1, Flags.cond(c, i.op & 0xf) ? 1 : 0);
    }

    /** D7: XLAT (AL = [seg: rBX + AL]). */
    static void xlat(Cpu c, Insn i) {
        long ea = (c.r[Cpu.RBX] + (c.r[Cpu.RAX] & 0xff)) & Cpu.mask(i.addrSize);
        c.setReg(1, Cpu.RAX, false, Operands.readMem(c, i.seg, ea, 1));
    }

    /** 9F: LAHF. */
    static void lahf(Cpu c) {
        c.r[Cpu.RAX] = (c.r[Cpu.RAX] & ~0xff00L) | ((c.rflags() & 0xd7) << 8);
    }

    /** 9E: SAHF (SF ZF AF PF CF from AH). */
    static void sahf(Cpu c) {
        int ah = (int) (c.r[Cpu.RAX] >>> 8) & 0xd5;
        Flags.replace(c, 0xd5, ah);
    }

    /** F5 CMC, F8 CLC, F9 STC, FC CLD, FD STD. */
    static void flagOp(Cpu c, Insn i) {
        switch (i.op) {
            case 0xf5 -> Flags.replace(c, 1, Flags.cf(c) ^ 1);
            case 0xf8 -> Flags.replace(c, 1, 0);
            case 0xf9 -> Flags.replace(c, 1, 1);
            case 0xfc -> c.rflagsOther &= ~Cpu.DF;
            default -> c.rflagsOther |= Cpu.DF;
        }
    }

    /** 0F 38 F0/F1: MOVBE (memory operand only; #UD when not enabled or with F2/F3). */
    static void movbe(Cpu c, Insn i) {
        if (!c.owner.cpuid.movbe || i.mod == 3 || (i.prefix & (Insn.P_REP | Insn.P_REPNE)) != 0) {
            throw CpuException.ud();
        }
        int size = i.opSize;
        if (i.op == 0x2f0) {
            Operands.writeReg(c, i, size, swap(Operands.readRm(c, i, size), size));
        } else {
            Operands.writeRm(c, i, size, swap(Operands.readReg(c, i, size), size));
        }
    }

    private static long swap(long v, int size) {
        return switch (size) {
            case 2 -> Short.reverseBytes((short) v) & 0xffffL;
            case 4 -> Integer.reverseBytes((int) v) & 0xffff_ffffL;
            default -> Long.reverseBytes(v);
        };
    }
}
