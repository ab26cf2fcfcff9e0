package dev.thaw.emulated.cpu;

/**
 * Interrupt and exception delivery through the IDT (SDM vol. 3, chapter 6): in long mode (16-byte
 * interrupt and trap gates, the 64-bit frame with SS:RSP always pushed, TSS.RSPn on a privilege change,
 * the IST), in protected mode (16- and 32-bit interrupt and trap gates, SS:ESP from the TSS on a privilege
 * change) and in real mode (the IVT). Faults while reading the IDT, the gate's code segment or the TSS
 * raise #GP, #NP, #TS or #SS with the error codes the SDM gives (EXT for events not caused by the
 * program, IDT for gate errors); the caller turns a fault during delivery into #DF or a triple fault.
 * Task gates are not supported (they raise {@link UnsupportedFeature}).
 */
final class Interrupts {

    /** Why the event happens; decides the gate DPL check and the EXT bit. */
    static final int EXCEPTION = 0, EXTERNAL = 1, SOFTWARE = 2, ICEBP = 3;

    private Interrupts() {}

    /**
     * Delivers {@code vector}. RIP must already be the return address (the faulting instruction for a
     * fault, the next one for a trap or INT n). {@code error} is the error code or {@link CpuException#NO_ERROR}.
     */
    static void deliver(Cpu c, int vector, int kind, int error) {
        if (!c.protectedMode) {
            deliverReal(c, vector);
        } else if (c.longMode) {
            deliverLong(c, vector, kind, error);
        } else {
            deliverProtected(c, vector, kind, error);
        }
        c.shadow = 0;
    }

    private static int ext(int kind) {
        return kind == SOFTWARE ? 0 : 1;
    }

    // ---- long mode ----

    private static void deliverLong(Cpu c, int vector, int kind, int error) {
        int ext = ext(kind);
        int idtErr = vector * 8 + 2 + ext;
        if (vector * 16L + 15 > c.idtLimit) {
            throw CpuException.gp(idtErr);
        }
        long lo = c.mmu.readSys(c.idtBase + vector * 16L, 8);
        long hi = c.mmu.readSys(c.idtBase + vector * 16L + 8, 8);
        int type = (int) (lo >>> 40) & 0x1f;
        if (type != 0xe && type != 0xf) {
            throw CpuException.gp(idtErr);
        }
        if (kind == SOFTWARE && Segments.dpl(lo) < c.cpl) {
            throw CpuException.gp(vector * 8 + 2);
        }
        if (!Segments.present(lo)) {
            throw CpuException.np(idtErr);
        }
        int sel = (int) (lo >>> 16) & 0xffff;
        long target = (lo & 0xffff) | ((lo >>> 32) & 0xffff_0000L) | (hi << 32);
        int ist = (int) (lo >>> 32) & 7;
        long cd = gateCode(c, sel, ext);
        if ((cd & (1L << 53)) == 0 || (cd & (1L << 54)) != 0) {
            throw CpuException.gp((sel & 0xfffc) + ext); // must be 64-bit code
        }
        int dpl = Segments.dpl(cd);
        int newCpl = Segments.isConforming(cd) ? c.cpl : dpl;
        long rsp;
        if (ist != 0) {
            rsp = tssRead(c, 0x24 + (ist - 1) * 8, 8, ext);
        } else if (newCpl < c.cpl) {
            rsp = tssRead(c, 4 + newCpl * 8, 8, ext);
        } else {
            rsp = c.r[Cpu.RSP];
        }
        if (((target << 16) >> 16) != target) {
            throw CpuException.gp(ext);
        }
        rsp &= ~0xfL;
        long flags = c.rflags();
        int user = newCpl == 3 ? 1 : 0;
        long sp = rsp;
        sp -= 8;
        c.mmu.writeAs(sp, 8, c.segSel[Cpu.SS], Cpu.SS, user);
        sp -= 8;
        c.mmu.writeAs(sp, 8, c.r[Cpu.RSP], Cpu.SS, user);
        sp -= 8;
        c.mmu.writeAs(sp, 8, flags, Cpu.SS, user);
        sp -= 8;
        c.mmu.writeAs(sp, 8, c.segSel[Cpu.CS], Cpu.SS, user);
        sp -= 8;
        c.mmu.writeAs(sp, 8, c.rip, Cpu.SS, user);
        if (error >= 0) {
            sp -= 8;
            c.mmu.writeAs(sp, 8, error & 0xffff_ffffL, Cpu.SS, user);
        }
        // commit
        Segments.setAccessed(c, sel, cd);
        if (newCpl < c.cpl) {
            Segments.cacheNull(c, Cpu.SS, newCpl);
            c.segAttr[Cpu.SS] |= newCpl << Cpu.A_DPL_SHIFT;
        }
        Segments.cache(c, Cpu.CS, (sel & 0xfffc) | newCpl, cd);
        c.setCpl(newCpl);
        c.r[Cpu.RSP] = sp;
        c.rip = target;
        clearFlags(c, type);
        c.updateMode();
    }

    /** The code segment descriptor a gate names, checked: code, DPL &lt;= CPL, present. */
    private static long gateCode(Cpu c, int sel, int ext) {
        if ((sel & 0xfffc) == 0) {
            throw CpuException.gp(ext);
        }
        long cd;
        try {
            cd = Segments.read(c, sel);
        } catch (CpuException e) {
            if (e.vector == CpuException.GP) {
                throw CpuException.gp((sel & 0xfffc) + ext);
            }
            throw e;
        }
        if (!Segments.isCode(cd) || Segments.dpl(cd) > c.cpl) {
            throw CpuException.gp((sel & 0xfffc) + ext);
        }
        if (!Segments.present(cd)) {
            throw CpuException.np((sel & 0xfffc) + ext);
        }
        return cd;
    }

    /** Reads {@code size} bytes at {@code offset} of the current TSS (#TS(TR) beyond its limit). */
    static long tssRead(Cpu c, long offset, int size, int ext) {
        if ((c.segAttr[Cpu.TR] & Cpu.A_UNUSABLE) != 0 || offset + size - 1 > c.segLimit[Cpu.TR]) {
            throw CpuException.ts((c.segSel[Cpu.TR] & 0xfffc) + ext);
        }
        return c.mmu.readSys(c.segBase[Cpu.TR] + offset, size);
    }

    private static void clearFlags(Cpu c, int gateType) {
        long f = c.rflagsOther & ~(Cpu.TF | Cpu.NT | Cpu.RF | Cpu.VM);
        if ((gateType & 1) == 0) {
            f &= ~Cpu.IF; // interrupt gate
        }
        c.rflagsOther = f;
    }

    // ---- protected mode (legacy) ----

    private static void deliverProtected(Cpu c, int vector, int kind, int error) {
        int ext = ext(kind);
        int idtErr = vector * 8 + 2 + ext;
        if (vector * 8L + 7 > c.idtLimit) {
            throw CpuException.gp(idtErr);
        }
        long g = c.mmu.readSys((c.idtBase + vector * 8L) & 0xffff_ffffL, 8);
        int type = (int) (g >>> 40) & 0x1f;
        if (type == 5) {
            throw new UnsupportedFeature("task gate in IDT entry " + vector);
        }
        if (type != 6 && type != 7 && type != 0xe && type != 0xf) {
            throw CpuException.gp(idtErr);
        }
        if (kind == SOFTWARE && Segments.dpl(g) < c.cpl) {
            throw CpuException.gp(vector * 8 + 2);
        }
        if (!Segments.present(g)) {
            throw CpuException.np(idtErr);
        }
        int size = (type & 8) != 0 ? 4 : 2;
        int sel = (int) (g >>> 16) & 0xffff;
        long target = (g & 0xffff) | (size == 4 ? (g >>> 32) & 0xffff_0000L : 0);
        long cd = gateCode(c, sel, ext);
        int dpl = Segments.dpl(cd);
        if ((c.rflagsOther & Cpu.VM) != 0) {
            throw new UnsupportedFeature("interrupt in virtual-8086 mode");
        }
        boolean inner = !Segments.isConforming(cd) && dpl < c.cpl;
        int newCpl = inner ? dpl : c.cpl;
        if (target > Segments.limit(cd)) {
            throw CpuException.gp(ext);
        }
        long flags = c.rflags();
        int user = newCpl == 3 ? 1 : 0;
        int oldCs = c.segSel[Cpu.CS];
        int oldSs = c.segSel[Cpu.SS];
        long oldEsp = c.r[Cpu.RSP];
        // save SS so a fault while pushing leaves it as it was
        long ssBase = c.segBase[Cpu.SS], ssLimit = c.segLimit[Cpu.SS];
        int ssAttr = c.segAttr[Cpu.SS];
        int oldStackSize = c.stackSize;
        try {
            if (inner) {
                boolean tss32 = (Segments.systemType(trDescriptorType(c)) & 8) != 0;
                long newSp;
                int newSs;
                if (tss32) {
                    newSp = tssRead(c, 4 + newCpl * 8, 4, ext);
                    newSs = (int) tssRead(c, 8 + newCpl * 8, 2, ext);
                } else {
                    newSp = tssRead(c, 2 + newCpl * 4, 2, ext);
                    newSs = (int) tssRead(c, 4 + newCpl * 4, 2, ext);
                }
                loadInnerStack(c, newSs, newCpl, ext);
                c.r[Cpu.RSP] = newSp;
                pushFrame(c, size, oldSs, user);
                pushFrame(c, size, oldEsp, user);
            }
            pushFrame(c, size, flags, user);
            pushFrame(c, size, oldCs, user);
            pushFrame(c, size, c.rip, user);
            if (error >= 0) {
                pushFrame(c, size, error, user);
            }
        } catch (CpuException | UnsupportedFeature e) {
            c.segSel[Cpu.SS] = oldSs;
            c.segBase[Cpu.SS] = ssBase;
            c.segLimit[Cpu.SS] = ssLimit;
            c.segAttr[Cpu.SS] = ssAttr;
            c.stackSize = oldStackSize;
            c.r[Cpu.RSP] = oldEsp;
            throw e;
        }
        Segments.setAccessed(c, sel, cd);
        Segments.cache(c, Cpu.CS, (sel & 0xfffc) | newCpl, cd);
        c.setCpl(newCpl);
        c.rip = target;
        clearFlags(c, type);
        c.updateMode();
    }

    private static long trDescriptorType(Cpu c) {
        return (long) (c.segAttr[Cpu.TR] & 0xf) << 40;
    }

    private static void loadInnerStack(Cpu c, int sel, int cpl, int ext) {
        if ((sel & 0xfffc) == 0) {
            throw CpuException.ts(ext);
        }
        long d;
        try {
            d = Segments.read(c, sel);
        } catch (CpuException e) {
            throw CpuException.ts((sel & 0xfffc) + ext);
        }
        if ((sel & 3) != cpl || Segments.dpl(d) != cpl || Segments.isCode(d) || !Segments.isCodeOrData(d)
                || !Segments.isReadableOrWritable(d)) {
            throw CpuException.ts((sel & 0xfffc) + ext);
        }
        if (!Segments.present(d)) {
            throw CpuException.ss((sel & 0xfffc) + ext);
        }
        Segments.setAccessed(c, sel, d);
        Segments.cache(c, Cpu.SS, sel, d);
        c.updateMode();
    }

    /** Pushes at the new privilege (supervisor unless CPL 3 remains). */
    private static void pushFrame(Cpu c, int size, long v, int user) {
        long sp = (c.r[Cpu.RSP] - size) & Operands.stackMask(c);
        long lin = Operands.linear(c, Cpu.SS, sp, size, true);
        c.mmu.writeAs(lin, size, v, Cpu.SS, user);
        Operands.setSp(c, sp);
    }

    // ---- real mode ----

    private static void deliverReal(Cpu c, int vector) {
        if (vector * 4L + 3 > c.idtLimit) {
            throw CpuException.gp0();
        }
        long entry = c.mmu.readSys((c.idtBase + vector * 4L) & 0xffff_ffffL, 4);
        Operands.push(c, 2, c.rflags());
        Operands.push(c, 2, c.segSel[Cpu.CS]);
        Operands.push(c, 2, c.rip);
        c.loadRealSegment(Cpu.CS, (int) (entry >>> 16));
        c.rip = entry & 0xffff;
        c.rflagsOther &= ~(Cpu.IF | Cpu.TF | Cpu.AC | Cpu.RF);
        c.updateMode();
    }
}
