package dev.thaw.emulated.cpu;

/**
 * Instructions that move segment registers (SDM vol. 2): MOV to and from a segment register, LDS, LES,
 * LSS, LFS, LGS, and RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE when CPUID and CR4.FSGSBASE enable them.
 */
final class SegmentOps {

    private SegmentOps() {}

    /** 8C: MOV r/m, Sreg (a register destination gets the selector zero-extended). */
    static void movFromSeg(Cpu c, Insn i) {
        int seg = i.reg & 7;
        if (seg > 5) {
            throw CpuException.ud();
        }
        int sel = c.segSel[seg];
        if (i.mod == 3) {
            c.setReg(i.opSize, i.rm, i.hasRex, sel);
        } else {
            Operands.writeRm(c, i, 2, sel);
        }
    }

    /** 8E: MOV Sreg, r/m (not CS; MOV SS holds off interrupts for one instruction). */
    static void movToSeg(Cpu c, Insn i) {
        int seg = i.reg & 7;
        if (seg > 5 || seg == Cpu.CS) {
            throw CpuException.ud();
        }
        int sel = (int) Operands.readRm(c, i, 2);
        Segments.loadSegment(c, seg, sel);
        if (seg == Cpu.SS) {
            c.shadow = Cpu.SHADOW_MOV_SS;
        }
    }

    /** C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS: offset then selector from memory. */
    static void loadFarPointer(Cpu c, Insn i) {
        if (i.mod == 3) {
            throw CpuException.ud();
        }
        int seg = switch (i.op) {
            case 0xc4 -> Cpu.ES;
            case 0xc5 -> Cpu.DS;
            case 0x1b2 -> Cpu.SS;
            case 0x1b4 -> Cpu.FS;
            default -> Cpu.GS;
        };
        int size = i.opSize;
        long ea = Operands.ea(c, i);
        long offset = Operands.readMem(c, i.seg, ea, size);
        int sel = (int) Operands.readMem(c, i.seg, (ea + size) & Cpu.mask(i.addrSize), 2);
        Segments.loadSegment(c, seg, sel);
        Operands.writeReg(c, i, size, offset);
    }

    /** F3 0F AE /0-/3 (register forms): RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE. */
    static void fsgsBase(Cpu c, Insn i) {
        if (!c.mode64 || (c.cr4 & Cpu.CR4_FSGSBASE) == 0 || !c.owner.cpuid.fsgsbase) {
            throw CpuException.ud();
        }
        int op = i.reg & 7;
        int seg = (op & 1) == 0 ? Cpu.FS : Cpu.GS;
        int size = i.opSize == 8 ? 8 : 4;
        if (op < 2) {
            c.setReg(size, i.rm, false, c.segBase[seg]);
        } else {
            long v = c.reg(size, i.rm, false);
            if (((v << 16) >> 16) != v) {
                throw CpuException.gp0();
            }
            c.segBase[seg] = v;
        }
    }
}
