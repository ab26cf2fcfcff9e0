package dev.thaw.emulated.cpu;

/**
 * Segment descriptors (SDM vol. 3, chapter 3 and 5.5-5.8): reading them from the GDT or LDT, loading the
 * data and stack segment registers with their checks (#GP, #NP, #SS with the selector as error code),
 * caching a descriptor's base, limit and attributes, and the accessed and busy bits.
 */
final class Segments {

    private Segments() {}

    // ---- descriptor fields (a legacy 8-byte descriptor) ----

    static long base(long d) {
        return ((d >>> 16) & 0xff_ffffL) | ((d >>> 32) & 0xff00_0000L);
    }

    static long limit(long d) {
        long l = (d & 0xffff) | ((d >>> 32) & 0xf_0000L);
        return (d & (1L << 55)) != 0 ? (l << 12) | 0xfff : l;
    }

    /** Attributes in {@link Cpu}'s A_* layout. */
    static int attr(long d) {
        return (int) (((d >>> 40) & 0xff) | (((d >>> 52) & 0xf) << 12));
    }

    static int dpl(long d) {
        return (int) (d >>> 45) & 3;
    }

    static boolean present(long d) {
        return (d & (1L << 47)) != 0;
    }

    /** S=1: a code or data segment (not a system descriptor). */
    static boolean isCodeOrData(long d) {
        return (d & (1L << 44)) != 0;
    }

    static boolean isCode(long d) {
        return isCodeOrData(d) && (d & (1L << 43)) != 0;
    }

    static boolean isConforming(long d) {
        return (d & (1L << 42)) != 0;
    }

    /** For code: readable; for data: writable. */
    static boolean isReadableOrWritable(long d) {
        return (d & (1L << 41)) != 0;
    }

    static int systemType(long d) {
        return (int) (d >>> 40) & 0xf;
    }

    // ---- descriptor tables ----

    /** The linear address of the descriptor of {@code sel}, checked against the table's limit. */
    static long descriptorAddress(Cpu c, int sel, int bytes) {
        long tableBase;
        long tableLimit;
        if ((sel & 4) != 0) {
            if ((c.segAttr[Cpu.LDTR] & Cpu.A_UNUSABLE) != 0) {
                throw CpuException.gp(sel & 0xfffc);
            }
            tableBase = c.segBase[Cpu.LDTR];
            tableLimit = c.segLimit[Cpu.LDTR];
        } else {
            tableBase = c.gdtBase;
            tableLimit = c.gdtLimit;
        }
        long off = sel & 0xfff8L;
        if (off + bytes - 1 > tableLimit) {
            throw CpuException.gp(sel & 0xfffc);
        }
        long a = tableBase + off;
        return c.longMode ? a : a & 0xffff_ffffL;
    }

    /** The 8-byte descriptor of {@code sel} (#GP(sel) beyond the table). */
    static long read(Cpu c, int sel) {
        return c.mmu.readSys(descriptorAddress(c, sel, 8), 8);
    }

    /** The upper 8 bytes of a 16-byte system descriptor in long mode. */
    static long readHigh(Cpu c, int sel) {
        return c.mmu.readSys(descriptorAddress(c, sel, 16) + 8, 8);
    }

    /** Sets the accessed bit of a code or data descriptor in memory if it is clear. */
    static void setAccessed(Cpu c, int sel, long d) {
        if ((d & (1L << 40)) == 0) {
            c.mmu.writeSys(descriptorAddress(c, sel, 8) + 5, 1, ((d >>> 40) & 0xff) | 1);
        }
    }

    // ---- segment register caches ----

    /** Loads {@code seg}'s selector and hidden part from descriptor {@code d}. */
    static void cache(Cpu c, int seg, int sel, long d) {
        c.segSel[seg] = sel & 0xffff;
        c.segBase[seg] = base(d);
        c.segLimit[seg] = limit(d);
        c.segAttr[seg] = attr(d) | 1; // the accessed bit, as setAccessed wrote it
    }

    /** A null selector in a data segment register: unusable. */
    static void cacheNull(Cpu c, int seg, int sel) {
        c.segSel[seg] = sel & 0xffff;
        c.segBase[seg] = 0;
        c.segLimit[seg] = 0;
        c.segAttr[seg] = Cpu.A_UNUSABLE;
    }

    /**
     * MOV, POP or LDS-style load of ES, SS, DS, FS or GS with the protected-mode checks; in real mode just
     * base = selector * 16.
     */
    static void loadSegment(Cpu c, int seg, int sel) {
        sel &= 0xffff;
        if (!c.protectedMode || (c.rflagsOther & Cpu.VM) != 0) {
            c.loadRealSegment(seg, sel);
            if (seg == Cpu.SS) {
                c.updateMode();
            }
            return;
        }
        if (seg == Cpu.SS) {
            loadStack(c, sel, c.cpl, c.mode64 && c.cpl < 3);
            return;
        }
        if ((sel & 0xfffc) == 0) {
            cacheNull(c, seg, sel);
            return;
        }
        long d = read(c, sel);
        int rpl = sel & 3;
        int dpl = dpl(d);
        if (!isCodeOrData(d) || (isCode(d) && !isReadableOrWritable(d))) {
            throw CpuException.gp(sel & 0xfffc);
        }
        if ((!isCode(d) || !isConforming(d)) && (rpl > dpl || c.cpl > dpl)) {
            throw CpuException.gp(sel & 0xfffc);
        }
        if (!present(d)) {
            throw CpuException.np(sel & 0xfffc);
        }
        setAccessed(c, sel, d);
        cache(c, seg, sel, d);
    }

    /**
     * Loads SS for privilege level {@code cpl} (RPL and DPL must equal it); a null selector only if
     * {@code allowNull} (64-bit mode below CPL 3).
     */
    static void loadStack(Cpu c, int sel, int cpl, boolean allowNull) {
        cacheStack(c, sel, cpl, checkStack(c, sel, cpl, allowNull));
    }

    /** The checks of {@link #loadStack} without loading: the descriptor, or -1 for an allowed null selector. */
    static long checkStack(Cpu c, int sel, int cpl, boolean allowNull) {
        if ((sel & 0xfffc) == 0) {
            if (allowNull && (sel & 3) == cpl) {
                return -1;
            }
            throw CpuException.gp0();
        }
        long d = read(c, sel);
        if ((sel & 3) != cpl || dpl(d) != cpl || !isCodeOrData(d) || isCode(d) || !isReadableOrWritable(d)) {
            throw CpuException.gp(sel & 0xfffc);
        }
        if (!present(d)) {
            throw CpuException.ss(sel & 0xfffc);
        }
        return d;
    }

    /** Loads SS from a descriptor {@link #checkStack} returned. */
    static void cacheStack(Cpu c, int sel, int cpl, long d) {
        if (d == -1) {
            cacheNull(c, Cpu.SS, sel);
            c.segAttr[Cpu.SS] |= cpl << Cpu.A_DPL_SHIFT;
        } else {
            setAccessed(c, sel, d);
            cache(c, Cpu.SS, sel, d);
        }
        c.updateMode();
    }

    /** After a return to an outer privilege level: data segments the new CPL may not use become null. */
    static void nullInaccessible(Cpu c) {
        for (int seg : new int[] {Cpu.ES, Cpu.DS, Cpu.FS, Cpu.GS}) {
            int a = c.segAttr[seg];
            boolean dataOrNonConforming = (a & 0x8) == 0 || (a & 0x4) == 0;
            if ((a & Cpu.A_UNUSABLE) == 0 && dataOrNonConforming && ((a >>> Cpu.A_DPL_SHIFT) & 3) < c.cpl) {
                c.segSel[seg] = 0;
                c.segAttr[seg] |= Cpu.A_UNUSABLE;
                c.segAttr[seg] &= ~Cpu.A_P;
            }
        }
    }

    // ---- LDTR and TR ----

    /** LLDT: null makes the LDT unusable. */
    static void loadLdt(Cpu c, int sel) {
        if ((sel & 0xfffc) == 0) {
            cacheNull(c, Cpu.LDTR, sel);
            return;
        }
        if ((sel & 4) != 0) {
            throw CpuException.gp(sel & 0xfffc);
        }
        long d = read(c, sel);
        if (isCodeOrData(d) || systemType(d) != 2) {
            throw CpuException.gp(sel & 0xfffc);
        }
        if (!present(d)) {
            throw CpuException.np(sel & 0xfffc);
        }
        long base = base(d);
        if (c.longMode) {
            base |= (readHigh(c, sel) & 0xffff_ffffL) << 32;
        }
        c.segSel[Cpu.LDTR] = sel;
        c.segBase[Cpu.LDTR] = base;
        c.segLimit[Cpu.LDTR] = limit(d);
        c.segAttr[Cpu.LDTR] = attr(d);
    }

    /** LTR: an available TSS (type 1 or 9; 9 in long mode) becomes busy. */
    static void loadTr(Cpu c, int sel) {
        if ((sel & 0xfffc) == 0) {
            throw CpuException.gp0();
        }
        if ((sel & 4) != 0) {
            throw CpuException.gp(sel & 0xfffc);
        }
        long d = read(c, sel);
        int type = systemType(d);
        if (isCodeOrData(d) || (type != 9 && (c.longMode || type != 1))) {
            throw CpuException.gp(sel & 0xfffc);
        }
        if (!present(d)) {
            throw CpuException.np(sel & 0xfffc);
        }
        long base = base(d);
        if (c.longMode) {
            base |= (readHigh(c, sel) & 0xffff_ffffL) << 32;
        }
        long busy = d | (2L << 40);
        c.mmu.writeSys(descriptorAddress(c, sel, 8) + 5, 1, (busy >>> 40) & 0xff);
        c.segSel[Cpu.TR] = sel;
        c.segBase[Cpu.TR] = base;
        c.segLimit[Cpu.TR] = limit(d);
        c.segAttr[Cpu.TR] = attr(busy);
    }
}
