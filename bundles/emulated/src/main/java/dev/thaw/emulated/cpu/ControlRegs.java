package dev.thaw.emulated.cpu;

/**
 * Writes of CR0, CR3, CR4 and EFER with their checks (SDM vol. 3, 2.5 and 9.8.5): reserved bits raise
 * #GP(0); CR0.PG with EFER.LME (and CR4.PAE) activates long mode (EFER.LMA); the TLB is flushed as the
 * change requires (CR3: non-global entries; paging, WP, PAE, PSE, PGE, NXE changes: everything).
 */
final class ControlRegs {

    private static final long CR0_FIXED = Cpu.CR0_ET;
    private static final long CR0_VALID = Cpu.CR0_PE | Cpu.CR0_MP | Cpu.CR0_EM | Cpu.CR0_TS | Cpu.CR0_ET
            | Cpu.CR0_NE | Cpu.CR0_WP | Cpu.CR0_AM | Cpu.CR0_NW | Cpu.CR0_CD | Cpu.CR0_PG;
    static final long CR4_VALID = Cpu.CR4_VME | Cpu.CR4_PVI | Cpu.CR4_TSD | Cpu.CR4_DE | Cpu.CR4_PSE
            | Cpu.CR4_PAE | Cpu.CR4_MCE | Cpu.CR4_PGE | Cpu.CR4_PCE | Cpu.CR4_OSFXSR | Cpu.CR4_OSXMMEXCPT;

    private ControlRegs() {}

    static void writeCr0(Cpu c, long v) {
        if ((v & ~CR0_VALID & 0xffff_ffffL) != 0) {
            v &= CR0_VALID; // reserved bits 31:0 are ignored as hardware does
        }
        if ((v >>> 32) != 0) {
            throw CpuException.gp0();
        }
        v |= CR0_FIXED;
        if ((v & Cpu.CR0_PG) != 0 && (v & Cpu.CR0_PE) == 0) {
            throw CpuException.gp0();
        }
        if ((v & Cpu.CR0_NW) != 0 && (v & Cpu.CR0_CD) == 0) {
            throw CpuException.gp0();
        }
        long old = c.cr0;
        boolean pagingOn = (v & Cpu.CR0_PG) != 0 && (old & Cpu.CR0_PG) == 0;
        boolean pagingOff = (v & Cpu.CR0_PG) == 0 && (old & Cpu.CR0_PG) != 0;
        if (pagingOn && (c.efer & Cpu.EFER_LME) != 0) {
            if ((c.cr4 & Cpu.CR4_PAE) == 0 || (c.segAttr[Cpu.CS] & Cpu.A_L) != 0) {
                throw CpuException.gp0();
            }
            c.efer |= Cpu.EFER_LMA;
        }
        if (pagingOff && c.longMode) {
            if (c.mode64) {
                throw CpuException.gp0();
            }
            c.efer &= ~Cpu.EFER_LMA;
        }
        c.cr0 = v;
        if (((old ^ v) & (Cpu.CR0_PG | Cpu.CR0_WP | Cpu.CR0_PE)) != 0) {
            c.mmu.flushAll();
        }
        c.updateMode();
    }

    static void writeCr3(Cpu c, long v) {
        if (c.longMode && (v >>> 52) != 0) {
            throw CpuException.gp0();
        }
        c.cr3 = c.longMode ? v : v & 0xffff_ffffL;
        c.mmu.flushNonGlobal();
    }

    static void writeCr4(Cpu c, long v) {
        long valid = CR4_VALID | c.owner.cpuid.extraCr4Bits();
        if ((v & ~valid) != 0) {
            throw CpuException.gp0();
        }
        if (c.longMode && (v & Cpu.CR4_PAE) == 0) {
            throw CpuException.gp0();
        }
        long old = c.cr4;
        c.cr4 = v;
        if (((old ^ v) & (Cpu.CR4_PAE | Cpu.CR4_PSE | Cpu.CR4_PGE | Cpu.CR4_SMEP | Cpu.CR4_SMAP)) != 0) {
            c.mmu.flushAll();
        }
    }

    /** WRMSR EFER: SCE, LME (not while paging is on), NXE; LMA is read-only. */
    static void writeEfer(Cpu c, long v) {
        long valid = Cpu.EFER_SCE | Cpu.EFER_LME | Cpu.EFER_LMA | (c.owner.cpuid.nx ? Cpu.EFER_NXE : 0);
        if ((v & ~valid) != 0) {
            throw CpuException.gp0();
        }
        long old = c.efer;
        if ((c.cr0 & Cpu.CR0_PG) != 0 && ((old ^ v) & Cpu.EFER_LME) != 0) {
            throw CpuException.gp0();
        }
        c.efer = (v & ~Cpu.EFER_LMA) | (old & Cpu.EFER_LMA);
        if (((old ^ v) & Cpu.EFER_NXE) != 0) {
            c.mmu.flushAll();
        }
        c.updateMode();
    }
}
