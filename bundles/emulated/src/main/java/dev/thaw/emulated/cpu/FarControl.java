package dev.thaw.emulated.cpu;

/**
 * Far control transfers (SDM vol. 2, JMP, CALL, RET, IRET; vol. 3, 5.8): far JMP and CALL to a code
 * segment (conforming or not, entering 64-bit mode when the target has L=1), far RET to the same or an
 * outer privilege level, and IRET/IRETD/IRETQ in real, protected and long mode with the RFLAGS privilege
 * rules. Call gates, task gates and task switches (far transfers to a TSS, IRET with NT) raise
 * {@link UnsupportedFeature}. Everything is read and checked before any register changes.
 */
final class FarControl {

    private FarControl() {}

    /** EA (ptr16:16/32) and FF /5 (m16:16/32/64): far JMP. */
    static void jmpFar(Cpu c, Insn i) {
        long offset;
        int sel;
        if (i.op == 0xea) {
            offset = i.imm;
            sel = (int) i.imm2;
        } else {
            if (i.mod == 3) {
                throw CpuException.ud();
            }
            int size = i.opSize;
            long ea = Operands.ea(c, i);
            offset = Operands.readMem(c, i.seg, ea, size);
            sel = (int) Operands.readMem(c, i.seg, (ea + size) & Cpu.mask(i.addrSize), 2);
        }
        transfer(c, sel, offset, i.opSize, false);
    }

    /** 9A (ptr16:16/32) and FF /3 (m16:16/32/64): far CALL. */
    static void callFar(Cpu c, Insn i) {
        long offset;
        int sel;
        if (i.op == 0x9a) {
            offset = i.imm;
            sel = (int) i.imm2;
        } else {
            if (i.mod == 3) {
                throw CpuException.ud();
            }
            int size = i.opSize;
            long ea = Operands.ea(c, i);
            offset = Operands.readMem(c, i.seg, ea, size);
            sel = (int) Operands.readMem(c, i.seg, (ea + size) & Cpu.mask(i.addrSize), 2);
        }
        transfer(c, sel, offset, i.opSize, true);
    }

    private static void transfer(Cpu c, int sel, long offset, int size, boolean call) {
        sel &= 0xffff;
        if (!c.protectedMode || (c.rflagsOther & Cpu.VM) != 0) {
            offset &= Cpu.mask(size);
            if (offset > c.segLimit[Cpu.CS]) {
                throw CpuException.gp0();
            }
            if (call) {
                pushPair(c, size, c.segSel[Cpu.CS], c.rip);
            }
            c.loadRealSegment(Cpu.CS, sel);
            c.rip = offset;
            c.updateMode();
            return;
        }
        if ((sel & 0xfffc) == 0) {
            throw CpuException.gp0();
        }
        long d = Segments.read(c, sel);
        if (!Segments.isCodeOrData(d)) {
            int type = Segments.systemType(d);
            throw new UnsupportedFeature(type == 4 || type == 0xc ? "call gate" : "task switch");
        }
        if (!Segments.isCode(d)) {
            throw CpuException.gp(sel & 0xfffc);
        }
        int dpl = Segments.dpl(d);
        if (Segments.isConforming(d) ? dpl > c.cpl : (sel & 3) > c.cpl || dpl != c.cpl) {
            throw CpuException.gp(sel & 0xfffc);
        }
        if (!Segments.present(d)) {
            throw CpuException.np(sel & 0xfffc);
        }
        long target = checkOffset(c, d, offset, size);
        if (call) {
            pushPair(c, size, c.segSel[Cpu.CS], c.rip);
        }
        Segments.setAccessed(c, sel, d);
        Segments.cache(c, Cpu.CS, (sel & 0xfffc) | c.cpl, d);
        c.rip = target;
        c.updateMode();
    }

    /** The target offset for code descriptor {@code d}: canonical for 64-bit code, else within the limit. */
    private static long checkOffset(Cpu c, long d, long offset, int size) {
        boolean l = (d & (1L << 53)) != 0;
        if (c.longMode && l) {
            if ((d & (1L << 54)) != 0) {
                throw CpuException.gp0();
            }
            if (size != 8) {
                offset &= Cpu.mask(size);
            }
            if (((offset << 16) >> 16) != offset) {
                throw CpuException.gp0();
            }
            return offset;
        }
        offset &= size == 2 ? 0xffff : 0xffff_ffffL;
        if (offset > Segments.limit(d)) {
            throw CpuException.gp0();
        }
        return offset;
    }

    /** Pushes CS then the return offset, checking both slots before writing either. */
    private static void pushPair(Cpu c, int size, long cs, long ip) {
        long mask = Operands.stackMask(c);
        long sp = c.r[Cpu.RSP];
        long a1 = (sp - size) & mask;
        long a2 = (sp - 2L * size) & mask;
        Operands.linear(c, Cpu.SS, a2, size, true);
        Operands.writeMem(c, Cpu.SS, a1, size, cs);
        Operands.writeMem(c, Cpu.SS, a2, size, ip);
        Operands.setSp(c, a2);
    }

    /** CB, CA imm16: far RET. */
    static void retFar(Cpu c, Insn i) {
        int size = i.opSize;
        long release = i.op == 0xca ? i.imm : 0;
        long offset = Operands.peek(c, size, 0);
        int sel = (int) Operands.peek(c, size, size) & 0xffff;
        if (!c.protectedMode || (c.rflagsOther & Cpu.VM) != 0) {
            offset &= Cpu.mask(size);
            c.loadRealSegment(Cpu.CS, sel);
            c.rip = offset;
            Operands.setSp(c, c.r[Cpu.RSP] + 2L * size + release);
            c.updateMode();
            return;
        }
        int rpl = sel & 3;
        long d = checkReturnCode(c, sel);
        long target = checkOffset(c, d, offset, size);
        if (rpl == c.cpl) {
            Segments.setAccessed(c, sel, d);
            Segments.cache(c, Cpu.CS, sel, d);
            c.rip = target;
            Operands.setSp(c, c.r[Cpu.RSP] + 2L * size + release);
            c.updateMode();
            return;
        }
        // outer privilege level: SS:RSP follow the released parameters
        long newSp = Operands.peek(c, size, 2L * size + release);
        int ss = (int) Operands.peek(c, size, 3L * size + release) & 0xffff;
        boolean target64 = c.longMode && (d & (1L << 53)) != 0;
        long sd = Segments.checkStack(c, ss, rpl, target64 && rpl != 3);
        Segments.setAccessed(c, sel, d);
        Segments.cache(c, Cpu.CS, sel, d);
        c.setCpl(rpl);
        c.updateMode();
        Segments.cacheStack(c, ss, rpl, sd);
        c.rip = target;
        Operands.setSp(c, newSp + release);
        Segments.nullInaccessible(c);
    }

    /** The code segment a far RET or IRET returns to: RPL &gt;= CPL, DPL rules, present. */
    private static long checkReturnCode(Cpu c, int sel) {
        if ((sel & 0xfffc) == 0) {
            throw CpuException.gp0();
        }
        int rpl = sel & 3;
        if (rpl < c.cpl) {
            throw CpuException.gp(sel & 0xfffc);
        }
        long d = Segments.read(c, sel);
        if (!Segments.isCode(d)) {
            throw CpuException.gp(sel & 0xfffc);
        }
        int dpl = Segments.dpl(d);
        if (Segments.isConforming(d) ? dpl > rpl : dpl != rpl) {
            throw CpuException.gp(sel & 0xfffc);
        }
        if (!Segments.present(d)) {
            throw CpuException.np(sel & 0xfffc);
        }
        if (c.longMode && (d & (1L << 53)) != 0 && (d & (1L << 54)) != 0) {
            throw CpuException.gp(sel & 0xfffc);
        }
        return d;
    }

    /** CF: IRET, IRETD, IRETQ. */
    static void iret(Cpu c, Insn i) {
        int size = i.opSize;
        if (c.nmiBlocked) {
            c.nmiBlocked = false; // even if the IRET faults (SDM vol. 3C, 26.3.1.5)
            c.checkInterrupts = true;
        }
        if (!c.protectedMode) {
            long ip = Operands.peek(c, size, 0);
            int cs = (int) Operands.peek(c, size, size) & 0xffff;
            long flags = Operands.peek(c, size, 2L * size);
            long mask = Cpu.ARITH | Cpu.TF | Cpu.IF | Cpu.DF | Cpu.IOPL | Cpu.NT | Cpu.RF | Cpu.AC | Cpu.ID;
            if (size == 2) {
                mask &= 0xffff;
            }
            c.loadRealSegment(Cpu.CS, cs);
            c.rip = ip & Cpu.mask(size);
            Operands.setSp(c, c.r[Cpu.RSP] + 3L * size);
            setFlags(c, flags, mask);
            c.updateMode();
            return;
        }
        if ((c.rflagsOther & Cpu.VM) != 0) {
            throw new UnsupportedFeature("IRET in virtual-8086 mode");
        }
        if ((c.rflagsOther & Cpu.NT) != 0) {
            if (c.longMode) {
                throw CpuException.gp0();
            }
            throw new UnsupportedFeature("task return (IRET with NT)");
        }
        long offset = Operands.peek(c, size, 0);
        int sel = (int) Operands.peek(c, size, size) & 0xffff;
        long flags = Operands.peek(c, size, 2L * size);
        if (size == 4 && !c.longMode && (flags & Cpu.VM) != 0 && c.cpl == 0) {
            throw new UnsupportedFeature("IRET to virtual-8086 mode");
        }
        int rpl = sel & 3;
        long d = checkReturnCode(c, sel);
        long target = checkOffset(c, d, offset, size);
        boolean popStack = c.mode64 || rpl > c.cpl;
        long newSp = 0;
        int ss = 0;
        long sd = 0;
        if (popStack) {
            newSp = Operands.peek(c, size, 3L * size);
            ss = (int) Operands.peek(c, size, 4L * size) & 0xffff;
            boolean target64 = (d & (1L << 53)) != 0;
            sd = Segments.checkStack(c, ss, rpl, c.longMode && target64 && rpl != 3);
        }
        long mask = Cpu.ARITH | Cpu.TF | Cpu.DF | Cpu.NT | Cpu.RF | Cpu.AC | Cpu.ID;
        if (c.cpl <= c.iopl()) {
            mask |= Cpu.IF;
        }
        if (c.cpl == 0) {
            mask |= Cpu.IOPL | Cpu.VIF | Cpu.VIP;
        }
        if (size == 2) {
            mask &= 0xffff;
        }
        // commit
        Segments.setAccessed(c, sel, d);
        Segments.cache(c, Cpu.CS, sel, d);
        boolean outer = rpl > c.cpl;
        c.setCpl(rpl);
        c.updateMode();
        if (popStack) {
            Segments.cacheStack(c, ss, rpl, sd);
            Operands.setSp(c, newSp);
            if (!c.mode64 && c.stackSize == 4) {
                c.r[Cpu.RSP] = newSp & 0xffff_ffffL;
            }
        } else {
            Operands.setSp(c, c.r[Cpu.RSP] + 3L * size);
        }
        c.rip = target;
        setFlags(c, flags, mask);
        if (outer) {
            Segments.nullInaccessible(c);
        }
    }

    private static void setFlags(Cpu c, long v, long mask) {
        long old = c.rflags();
        long nf = (old & ~mask) | (v & mask);
        c.setRflags(nf);
        if ((nf & Cpu.IF) != 0 && (old & Cpu.IF) == 0) {
            c.checkInterrupts = true;
        }
    }
}
