package dev.thaw.emulated.cpu;

import java.lang.invoke.VarHandle;

/**
 * Dispatch: from a decoded opcode to the instruction group that implements it (one class per group, named
 * as the SDM groups them). Every opcode not listed here, x87 (D8-DF), MMX, SSE, AVX and VEX/EVEX among
 * them, raises #UD through {@link Interpreter#unimplemented}, which counts it.
 */
final class Executor {

    private Executor() {}

    static void execute(Cpu c, Insn i) {
        if (i.form != RegisterForms.NONE) {
            RegisterForms.execute(c, i);
            return;
        }
        int op = i.op;
        if (op < 0x100) {
            oneByte(c, i, op);
        } else if (op < 0x200) {
            twoByte(c, i, op);
        } else if (op == 0x2f0 || op == 0x2f1) {
            DataMove.movbe(c, i);
        } else {
            c.owner.unimplemented(i);
        }
    }

    private static void oneByte(Cpu c, Insn i, int op) {
        switch (op) {
            case 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x10, 0x11, 0x12, 0x13,
                 0x14, 0x15, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28, 0x29,
                 0x2a, 0x2b, 0x2c, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d ->
                Arith.primary(c, i);
            case 0x06 -> StackOps.pushSeg(c, i, Cpu.ES);
            case 0x07 -> StackOps.popSeg(c, i, Cpu.ES);
            case 0x0e -> StackOps.pushSeg(c, i, Cpu.CS);
            case 0x16 -> StackOps.pushSeg(c, i, Cpu.SS);
            case 0x17 -> StackOps.popSeg(c, i, Cpu.SS);
            case 0x1e -> StackOps.pushSeg(c, i, Cpu.DS);
            case 0x1f -> StackOps.popSeg(c, i, Cpu.DS);
            case 0x27 -> Legacy.daa(c);
            case 0x2f -> Legacy.das(c);
            case 0x37 -> Legacy.aaaAas(c, true);
            case 0x3f -> Legacy.aaaAas(c, false);
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f ->
                Arith.incDecReg(c, i);
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> StackOps.pushReg(c, i);
            case 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f -> StackOps.popReg(c, i);
            case 0x60 -> StackOps.pusha(c, i);
            case 0x61 -> StackOps.popa(c, i);
            case 0x62 -> Legacy.bound(c, i);
            case 0x63 -> {
                if (c.mode64) {
                    DataMove.movsxd(c, i);
                } else {
                    Legacy.arpl(c, i);
                }
            }
            case 0x68, 0x6a -> StackOps.pushImm(c, i);
            case 0x69, 0x6b -> MulDiv.imul(c, i);
            case 0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf ->
                StringOps.execute(c, i);
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f ->
                Branch.jcc(c, i);
            case 0x80, 0x81, 0x82, 0x83 -> Arith.group1(c, i);
            case 0x84, 0x85 -> Arith.testRmReg(c, i);
            case 0x86, 0x87 -> Exchange.xchg(c, i);
            case 0x88, 0x89, 0x8a, 0x8b -> DataMove.mov(c, i);
            case 0x8c -> SegmentOps.movFromSeg(c, i);
            case 0x8d -> DataMove.lea(c, i);
            case 0x8e -> SegmentOps.movToSeg(c, i);
            case 0x8f -> StackOps.popRm(c, i);
            case 0x90 -> {
                if ((i.rex & 1) != 0) {
                    Exchange.xchgAcc(c, i);
                } else if ((i.prefix & Insn.P_REP) != 0) {
                    c.owner.pause();
                }
            }
            case 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 -> Exchange.xchgAcc(c, i);
            case 0x98 -> DataMove.cbw(c, i);
            case 0x99 -> DataMove.cwd(c, i);
            case 0x9a -> FarControl.callFar(c, i);
            case 0x9b -> {
                if ((c.cr0 & (Cpu.CR0_MP | Cpu.CR0_TS)) == (Cpu.CR0_MP | Cpu.CR0_TS)) {
                    throw new CpuException(CpuException.NM, CpuException.NO_ERROR);
                }
            }
            case 0x9c -> StackOps.pushf(c, i);
            case 0x9d -> StackOps.popf(c, i);
            case 0x9e -> DataMove.sahf(c);
            case 0x9f -> DataMove.lahf(c);
            case 0xa0, 0xa1, 0xa2, 0xa3 -> DataMove.movMoffs(c, i);
            case 0xa8, 0xa9 -> Arith.testAcc(c, i);
            case 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf ->
                DataMove.movImm(c, i);
            case 0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3 -> Shifts.group2(c, i);
            case 0xc2, 0xc3 -> Branch.ret(c, i);
            case 0xc4, 0xc5 -> SegmentOps.loadFarPointer(c, i);
            case 0xc6, 0xc7 -> DataMove.movRmImm(c, i);
            case 0xc8 -> StackOps.enter(c, i);
            case 0xc9 -> StackOps.leave(c, i);
            case 0xca, 0xcb -> FarControl.retFar(c, i);
            case 0xcc -> c.owner.softwareInterrupt(CpuException.BP, Interrupts.SOFTWARE);
            case 0xcd -> c.owner.softwareInterrupt((int) i.imm & 0xff, Interrupts.SOFTWARE);
            case 0xce -> {
                if (Flags.of(c)) {
                    c.owner.softwareInterrupt(CpuException.OF, Interrupts.SOFTWARE);
                }
            }
            case 0xcf -> FarControl.iret(c, i);
            case 0xd4 -> Legacy.aam(c, i);
            case 0xd5 -> Legacy.aad(c, i);
            case 0xd6 -> Legacy.salc(c);
            case 0xd7 -> DataMove.xlat(c, i);
            case 0xe0, 0xe1, 0xe2, 0xe3 -> Branch.loop(c, i);
            case 0xe4, 0xe5, 0xec, 0xed -> IoOps.in(c, i);
            case 0xe6, 0xe7, 0xee, 0xef -> IoOps.out(c, i);
            case 0xe8 -> Branch.callRel(c, i);
            case 0xe9, 0xeb -> Branch.jmpRel(c, i);
            case 0xea -> FarControl.jmpFar(c, i);
            case 0xf1 -> c.owner.softwareInterrupt(CpuException.DB, Interrupts.ICEBP);
            case 0xf4 -> c.owner.hlt();
            case 0xf5, 0xf8, 0xf9, 0xfc, 0xfd -> DataMove.flagOp(c, i);
            case 0xf6, 0xf7 -> group3(c, i);
            case 0xfa -> SystemOps.cli(c);
            case 0xfb -> SystemOps.sti(c);
            case 0xfe -> {
                if ((i.reg & 7) > 1) {
                    throw CpuException.ud();
                }
                Arith.incDecRm(c, i, 1);
            }
            case 0xff -> group5(c, i);
            default -> c.owner.unimplemented(i);
        }
    }

    private static void group3(Cpu c, Insn i) {
        int size = i.op == 0xf6 ? 1 : i.opSize;
        switch (i.reg & 7) {
            case 0, 1 -> Flags.logic(c, Operands.readRm(c, i, size) & i.imm, size);
            case 2, 3 -> Arith.notNeg(c, i, size);
            default -> MulDiv.group3(c, i, size);
        }
    }

    private static void group5(Cpu c, Insn i) {
        switch (i.reg & 7) {
            case 0, 1 -> Arith.incDecRm(c, i, i.opSize);
            case 2 -> Branch.callIndirect(c, i);
            case 3 -> FarControl.callFar(c, i);
            case 4 -> Branch.jmpIndirect(c, i);
            case 5 -> FarControl.jmpFar(c, i);
            case 6 -> StackOps.pushRm(c, i);
            default -> throw CpuException.ud();
        }
    }

    private static void twoByte(Cpu c, Insn i, int op) {
        switch (op) {
            case 0x100 -> SystemOps.group6(c, i);
            case 0x101 -> SystemOps.group7(c, i);
            case 0x102, 0x103 -> SystemOps.larLsl(c, i);
            case 0x105 -> FastSystemCall.syscall(c);
            case 0x106 -> SystemOps.clts(c);
            case 0x107 -> FastSystemCall.sysret(c, i);
            case 0x108, 0x109 -> SystemOps.requireCpl0(c); // INVD, WBINVD: no caches to write back
            case 0x10b, 0x1b9, 0x1ff -> throw CpuException.ud(); // UD2, UD1, UD0
            case 0x10d, 0x118, 0x119, 0x11a, 0x11b, 0x11c, 0x11d, 0x11e, 0x11f -> {
                // PREFETCHW, prefetch hints, hint NOPs (0F 1F /0 is the multi-byte NOP; F3 0F 1E FA ENDBR64)
            }
            case 0x120, 0x122 -> SystemOps.movCr(c, i);
            case 0x121, 0x123 -> SystemOps.movDr(c, i);
            case 0x130 -> SystemOps.wrmsr(c);
            case 0x131 -> SystemOps.rdtsc(c);
            case 0x132 -> SystemOps.rdmsr(c);
            case 0x134 -> FastSystemCall.sysenter(c);
            case 0x135 -> FastSystemCall.sysexit(c, i);
            case 0x140, 0x141, 0x142, 0x143, 0x144, 0x145, 0x146, 0x147, 0x148, 0x149, 0x14a, 0x14b, 0x14c, 0x14d,
                 0x14e, 0x14f -> DataMove.cmov(c, i);
            case 0x180, 0x181, 0x182, 0x183, 0x184, 0x185, 0x186, 0x187, 0x188, 0x189, 0x18a, 0x18b, 0x18c, 0x18d,
                 0x18e, 0x18f -> Branch.jcc(c, i);
            case 0x190, 0x191, 0x192, 0x193, 0x194, 0x195, 0x196, 0x197, 0x198, 0x199, 0x19a, 0x19b, 0x19c, 0x19d,
                 0x19e, 0x19f -> DataMove.setcc(c, i);
            case 0x1a0 -> StackOps.pushSeg(c, i, Cpu.FS);
            case 0x1a1 -> StackOps.popSeg(c, i, Cpu.FS);
            case 0x1a2 -> SystemOps.cpuid(c);
            case 0x1a3, 0x1ab, 0x1b3, 0x1bb, 0x1ba -> BitOps.bitTest(c, i);
            case 0x1a4, 0x1a5, 0x1ac, 0x1ad -> Shifts.shiftDouble(c, i);
            case 0x1a8 -> StackOps.pushSeg(c, i, Cpu.GS);
            case 0x1a9 -> StackOps.popSeg(c, i, Cpu.GS);
            case 0x1ae -> group15(c, i);
            case 0x1af -> MulDiv.imul(c, i);
            case 0x1b0, 0x1b1 -> Exchange.cmpxchg(c, i);
            case 0x1b2, 0x1b4, 0x1b5 -> SegmentOps.loadFarPointer(c, i);
            case 0x1b6, 0x1b7, 0x1be, 0x1bf -> DataMove.movx(c, i);
            case 0x1b8 -> BitOps.popcnt(c, i);
            case 0x1bc -> BitOps.bsf(c, i);
            case 0x1bd -> BitOps.bsr(c, i);
            case 0x1c0, 0x1c1 -> Exchange.xadd(c, i);
            case 0x1c7 -> {
                if ((i.reg & 7) == 1) {
                    Exchange.cmpxchg8b(c, i);
                } else {
                    c.owner.unimplemented(i); // RDRAND, RDSEED, RDPID, VMX
                }
            }
            case 0x1c8, 0x1c9, 0x1ca, 0x1cb, 0x1cc, 0x1cd, 0x1ce, 0x1cf -> BitOps.bswap(c, i);
            default -> c.owner.unimplemented(i);
        }
    }

    /** 0F AE: fences, CLFLUSH, and the FS/GS base instructions; FXSAVE, XSAVE and friends are #UD. */
    private static void group15(Cpu c, Insn i) {
        int op = i.reg & 7;
        if (i.mod == 3) {
            if ((i.prefix & Insn.P_REP) != 0 && op < 4) {
                SegmentOps.fsgsBase(c, i);
            } else if (op >= 5 && (i.prefix & (Insn.P_REP | Insn.P_REPNE | Insn.P_OPSIZE)) == 0) {
                VarHandle.fullFence(); // LFENCE, MFENCE, SFENCE
            } else {
                c.owner.unimplemented(i);
            }
        } else if (op == 7 && (i.prefix & (Insn.P_REP | Insn.P_REPNE)) == 0) {
            Operands.readRm(c, i, 1); // CLFLUSH / CLFLUSHOPT: faults like a read, no cache to flush
        } else {
            c.owner.unimplemented(i);
        }
    }
}
