package dev.thaw.emulated.cpu;

/**
 * System instructions (SDM vol. 3, 2.8): LGDT/LIDT/SGDT/SIDT, LLDT/LTR/SLDT/STR, VERR/VERW, LAR/LSL,
 * MOV to and from control and debug registers (CR8 through the {@link InterruptSource}), LMSW/SMSW,
 * CLTS, INVLPG, WBINVD/INVD, HLT, CLI/STI (with the STI interrupt shadow), RDTSC/RDTSCP, RDMSR/WRMSR,
 * CPUID, SWAPGS and the 0F 01 register forms. Privileged ones raise #GP(0) above CPL 0.
 */
final class SystemOps {

    private SystemOps() {}

    static void requireCpl0(Cpu c) {
        if (c.protectedMode && c.cpl != 0) {
            throw CpuException.gp0();
        }
    }

    // ---- 0F 00: SLDT, STR, LLDT, LTR, VERR, VERW ----

    static void group6(Cpu c, Insn i) {
        if (!c.protectedMode || (c.rflagsOther & Cpu.VM) != 0) {
            throw CpuException.ud();
        }
        switch (i.reg & 7) {
            case 0 -> storeSelector(c, i, c.segSel[Cpu.LDTR]);
            case 1 -> storeSelector(c, i, c.segSel[Cpu.TR]);
            case 2 -> {
                requireCpl0(c);
                Segments.loadLdt(c, (int) Operands.readRm(c, i, 2));
            }
            case 3 -> {
                requireCpl0(c);
                Segments.loadTr(c, (int) Operands.readRm(c, i, 2));
            }
            case 4, 5 -> verify(c, (int) Operands.readRm(c, i, 2), (i.reg & 7) == 5);
            default -> throw CpuException.ud();
        }
    }

    private static void storeSelector(Cpu c, Insn i, int sel) {
        if (i.mod == 3) {
            c.setReg(i.opSize, i.rm, i.hasRex, sel);
        } else {
            Operands.writeRm(c, i, 2, sel);
        }
    }

    /** VERR/VERW: ZF = the segment is readable/writable at the current privilege. */
    private static void verify(Cpu c, int sel, boolean write) {
        boolean ok = false;
        long d = accessibleDescriptor(c, sel);
        if (d != 0 && Segments.isCodeOrData(d)) {
            if (write) {
                ok = !Segments.isCode(d) && Segments.isReadableOrWritable(d);
            } else {
                ok = !Segments.isCode(d) || Segments.isReadableOrWritable(d);
            }
        }
        Flags.replace(c, 0x40, ok ? 0x40 : 0);
    }

    /** The descriptor of {@code sel} if it is visible at CPL and RPL (conforming code always), else 0. */
    private static long accessibleDescriptor(Cpu c, int sel) {
        if ((sel & 0xfffc) == 0) {
            return 0;
        }
        long d;
        try {
            d = Segments.read(c, sel);
        } catch (CpuException e) {
            if (e.vector == CpuException.GP) {
                return 0;
            }
            throw e;
        }
        boolean conformingCode = Segments.isCode(d) && Segments.isConforming(d);
        int dpl = Segments.dpl(d);
        if (!conformingCode && (dpl < c.cpl || dpl < (sel & 3))) {
            return 0;
        }
        return d;
    }

    /** 0F 02 LAR, 0F 03 LSL. */
    static void larLsl(Cpu c, Insn i) {
        if (!c.protectedMode || (c.rflagsOther & Cpu.VM) != 0) {
            throw CpuException.ud();
        }
        int sel = (int) Operands.readRm(c, i, 2);
        long d = accessibleDescriptor(c, sel);
        boolean ok = d != 0;
        if (ok && !Segments.isCodeOrData(d)) {
            int t = Segments.systemType(d);
            boolean lsl = i.op == 0x103;
            ok = c.longMode ? t == 2 || t == 9 || t == 11 || (!lsl && t == 0xc)
                    : t == 1 || t == 2 || t == 3 || t == 9 || t == 11 || (!lsl && (t == 4 || t == 5 || t == 0xc));
        }
        if (ok) {
            long v = i.op == 0x102 ? d >>> 32 & 0x00f0_ff00L : Segments.limit(d);
            Operands.writeReg(c, i, i.opSize, v);
        }
        Flags.replace(c, 0x40, ok ? 0x40 : 0);
    }

    // ---- 0F 01 ----

    static void group7(Cpu c, Insn i) {
        int op = i.reg & 7;
        if (i.mod == 3) {
            group7Reg(c, i);
            return;
        }
        switch (op) {
            case 0, 1 -> storeTable(c, i, op == 0 ? c.gdtBase : c.idtBase, op == 0 ? c.gdtLimit : c.idtLimit);
            case 2, 3 -> {
                requireCpl0(c);
                long ea = Operands.ea(c, i);
                int limit = (int) Operands.readMem(c, i.seg, ea, 2);
                long base = Operands.readMem(c, i.seg, (ea + 2) & Cpu.mask(i.addrSize), c.mode64 ? 8 : 4);
                if (!c.mode64) {
                    base &= i.opSize == 2 ? 0xff_ffffL : 0xffff_ffffL;
                } else if (((base << 16) >> 16) != base) {
                    throw CpuException.gp0();
                }
                if (op == 2) {
                    c.gdtBase = base;
                    c.gdtLimit = limit;
                } else {
                    c.idtBase = base;
                    c.idtLimit = limit;
                }
            }
            case 4 -> Operands.writeRm(c, i, 2, c.cr0 & 0xffff);
            case 6 -> {
                requireCpl0(c);
                lmsw(c, Operands.readRm(c, i, 2));
            }
            case 7 -> {
                requireCpl0(c);
                c.mmu.invalidate(Operands.lin(c, i, 1, false));
            }
            default -> throw CpuException.ud();
        }
    }

    private static void storeTable(Cpu c, Insn i, long base, int limit) {
        long ea = Operands.ea(c, i);
        Operands.writeMem(c, i.seg, ea, 2, limit);
        Operands.writeMem(c, i.seg, (ea + 2) & Cpu.mask(i.addrSize), c.mode64 ? 8 : 4,
                c.mode64 ? base : base & 0xffff_ffffL);
    }

    private static void lmsw(Cpu c, long v) {
        long cr0 = (c.cr0 & ~0xeL) | (v & 0xe) | (v & 1) | (c.cr0 & 1); // PE can be set, not cleared
        ControlRegs.writeCr0(c, cr0);
    }

    private static void group7Reg(Cpu c, Insn i) {
        int modrm = 0xc0 | ((i.reg & 7) << 3) | (i.rm & 7);
        switch (modrm) {
            case 0xf8 -> { // SWAPGS
                if (!c.mode64) {
                    throw CpuException.ud();
                }
                requireCpl0(c);
                long t = c.segBase[Cpu.GS];
                c.segBase[Cpu.GS] = c.owner.msrs.kernelGsBase;
                c.owner.msrs.kernelGsBase = t;
            }
            case 0xf9 -> { // RDTSCP
                if (!c.owner.cpuid.rdtscp) {
                    throw CpuException.ud();
                }
                rdtsc(c);
                c.r[Cpu.RCX] = c.owner.msrs.tscAux & 0xffff_ffffL;
            }
            case 0xca, 0xcb -> { // CLAC, STAC
                if (!c.owner.cpuid.smap) {
                    throw CpuException.ud();
                }
                requireCpl0(c);
                if (modrm == 0xca) {
                    c.rflagsOther &= ~Cpu.AC;
                } else {
                    c.rflagsOther |= Cpu.AC;
                }
            }
            default -> {
                switch (i.reg & 7) {
                    case 4 -> c.setReg(i.opSize, i.rm, i.hasRex, c.cr0 & Cpu.mask(i.opSize));
                    case 6 -> {
                        requireCpl0(c);
                        lmsw(c, c.r[i.rm]);
                    }
                    default -> c.owner.unimplemented(i);
                }
            }
        }
    }

    // ---- control and debug registers ----

    /** 0F 20 (MOV r, CRn) and 0F 22 (MOV CRn, r). */
    static void movCr(Cpu c, Insn i) {
        requireCpl0(c);
        int n = i.reg;
        int reg = i.rm; // always a register operand (the decoder ignores mod)
        boolean write = i.op == 0x122;
        int size = c.mode64 ? 8 : 4;
        if (n == 8 && !c.mode64) {
            throw CpuException.ud();
        }
        if (write) {
            long v = c.reg(size, reg, false);
            switch (n) {
                case 0 -> ControlRegs.writeCr0(c, v);
                case 2 -> c.cr2 = v;
                case 3 -> ControlRegs.writeCr3(c, v);
                case 4 -> ControlRegs.writeCr4(c, v);
                case 8 -> {
                    if ((v & ~0xfL) != 0) {
                        throw CpuException.gp0();
                    }
                    c.irq.setTaskPriority((int) v);
                    c.checkInterrupts = true;
                }
                default -> throw CpuException.ud();
            }
        } else {
            long v = switch (n) {
                case 0 -> c.cr0;
                case 2 -> c.cr2;
                case 3 -> c.cr3;
                case 4 -> c.cr4;
                case 8 -> c.irq.taskPriority() & 0xf;
                default -> throw CpuException.ud();
            };
            c.setReg(size, reg, false, v);
        }
    }

    /** 0F 21 (MOV r, DRn) and 0F 23 (MOV DRn, r): stored only, no breakpoints. */
    static void movDr(Cpu c, Insn i) {
        requireCpl0(c);
        int n = i.reg;
        if (n > 7 || ((n == 4 || n == 5) && (c.cr4 & Cpu.CR4_DE) != 0)) {
            throw CpuException.ud();
        }
        if (n == 4 || n == 5) {
            n += 2;
        }
        int reg = i.rm;
        int size = c.mode64 ? 8 : 4;
        if (i.op == 0x123) {
            long v = c.reg(size, reg, false);
            if ((n == 6 || n == 7) && (v >>> 32) != 0) {
                throw CpuException.gp0();
            }
            if (n == 6) {
                v = (v & 0x0000_e00fL) | 0xffff_0ff0L;
            } else if (n == 7) {
                v = (v & 0xffff_2fffL) | 0x400;
            }
            c.dr[n] = v;
        } else {
            c.setReg(size, reg, false, c.dr[n]);
        }
    }

    /** 0F 06: CLTS. */
    static void clts(Cpu c) {
        requireCpl0(c);
        c.cr0 &= ~Cpu.CR0_TS;
    }

    // ---- timestamps, MSRs, CPUID ----

    static void rdtsc(Cpu c) {
        if ((c.cr4 & Cpu.CR4_TSD) != 0 && c.protectedMode && c.cpl != 0) {
            throw CpuException.gp0();
        }
        long t = c.owner.msrs.tsc();
        c.r[Cpu.RAX] = t & 0xffff_ffffL;
        c.r[Cpu.RDX] = t >>> 32;
    }

    static void rdmsr(Cpu c) {
        requireCpl0(c);
        long v = c.owner.msrs.read(c.r[Cpu.RCX] & 0xffff_ffffL);
        c.r[Cpu.RAX] = v & 0xffff_ffffL;
        c.r[Cpu.RDX] = v >>> 32;
    }

    static void wrmsr(Cpu c) {
        requireCpl0(c);
        long v = (c.r[Cpu.RDX] << 32) | (c.r[Cpu.RAX] & 0xffff_ffffL);
        c.owner.msrs.write(c.r[Cpu.RCX] & 0xffff_ffffL, v);
    }

    static void cpuid(Cpu c) {
        long[] out = c.owner.cpuidOut;
        c.owner.cpuid.query((int) c.r[Cpu.RAX], (int) c.r[Cpu.RCX], out);
        c.r[Cpu.RAX] = out[0] & 0xffff_ffffL;
        c.r[Cpu.RBX] = out[1] & 0xffff_ffffL;
        c.r[Cpu.RCX] = out[2] & 0xffff_ffffL;
        c.r[Cpu.RDX] = out[3] & 0xffff_ffffL;
    }

    // ---- interrupt flag ----

    /** FA: CLI. */
    static void cli(Cpu c) {
        checkIopl(c);
        c.rflagsOther &= ~Cpu.IF;
    }

    /** FB: STI; enabling interrupts holds them off until after the next instruction. */
    static void sti(Cpu c) {
        checkIopl(c);
        if ((c.rflagsOther & Cpu.IF) == 0) {
            c.rflagsOther |= Cpu.IF;
            c.shadow = Cpu.SHADOW_STI;
            c.checkInterrupts = true;
        }
    }

    private static void checkIopl(Cpu c) {
        if (c.protectedMode && c.cpl > c.iopl()) {
            throw CpuException.gp0();
        }
    }
}
