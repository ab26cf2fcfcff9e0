package dev.thaw.emulated.cpu;

/**
 * Linear to physical translation through the guest's page tables (SDM vol. 3, chapter 4): 32-bit paging
 * (4 KiB and, with CR4.PSE, 4 MiB pages), PAE paging and 4-level paging (4 KiB, 2 MiB and 1 GiB pages).
 * Checks U/S, R/W (with CR0.WP) and NX (EFER.NXE), reserved bits, and sets the accessed bits of the
 * entries used and the dirty bit of the leaf on a write (atomically: another vCPU may update the same
 * entry). A failed check raises #PF with its error code and CR2. Results land in this object's fields
 * (no allocation). PAE's PDPTEs are read at each walk rather than cached at the CR3 load.
 */
final class PageWalker {

    static final int READ = 0, WRITE = 1, EXEC = 2;

    static final int PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_I = 16;

    private static final long P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
    private static final long NX = 1L << 63;

    private final Cpu c;
    private final Mmu mmu;

    /** Physical address of the 4 KiB page holding the translated linear address. */
    long pa;
    /** The translation allows a write / an instruction fetch at the privilege walked for. */
    boolean writable, executable;
    /** The translation is global (G with CR4.PGE). */
    boolean global;
    /** Size minus one of the page that holds the translation: 0xfff, 0x1fffff, 0x3fffff or 0x3fffffff. */
    long pageMask;

    /** Physical address bits (CPUID 0x80000008 EAX[7:0]). */
    int maxPhysAddr = 46;
    /** 1 GiB pages allowed (CPUID pdpe1gb). */
    boolean gbPages = true;

    PageWalker(Cpu c, Mmu mmu) {
        this.c = c;
        this.mmu = mmu;
    }

    /** Translates {@code lin} for {@code access} at user ({@code user}) or supervisor privilege. */
    void walk(long lin, int access, boolean user) {
        while (true) {
            boolean done;
            if ((c.cr4 & Cpu.CR4_PAE) == 0) {
                done = walk32(lin, access, user);
            } else {
                done = walkPae(lin, access, user);
            }
            if (done) {
                return;
            }
            // an entry changed under us while setting A/D: walk again
        }
    }

    private long physMask() {
        return ((1L << maxPhysAddr) - 1) & ~0xfffL;
    }

    private boolean walkPae(long lin, int access, boolean user) {
        boolean nxe = (c.efer & Cpu.EFER_NXE) != 0;
        long rsvdHigh = ((1L << 52) - 1) & ~((1L << maxPhysAddr) - 1);
        if (!nxe) {
            rsvdHigh |= NX;
        }
        long addrMask = physMask();
        long[] entries = this.entries;
        long[] addrs = this.entryAddrs;
        int n = 0;
        boolean rw = true, us = true, xd = false;
        int levels;
        long table;
        if (c.longMode) {
            levels = 4;
            table = c.cr3 & addrMask;
        } else {
            // PAE: the PDPTE indexed by bits 31:30; it has no R/W, U/S or NX
            long pdpteAddr = (c.cr3 & 0xffff_ffe0L) + ((lin >>> 30) & 3) * 8;
            long e = mmu.physRead64(pdpteAddr);
            if ((e & P) == 0) {
                throw fault(lin, access, user, 0);
            }
            if ((e & (rsvdHigh | NX | 0x1e6L)) != 0) {
                throw fault(lin, access, user, PF_P | PF_RSVD);
            }
            table = e & addrMask;
            levels = 2;
        }
        for (int level = levels; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long ea = table + ((lin >>> shift) & 511) * 8;
            long e = mmu.physRead64(ea);
            if ((e & P) == 0) {
                throw fault(lin, access, user, 0);
            }
            long rsvd = rsvdHigh;
            boolean leaf = level == 1;
            if (level > 1 && (e & PS) != 0) {
                if (level == 2 || (level == 3 && gbPages)) {
                    leaf = true;
                    rsvd |= ((1L << shift) - 1) & ~0x1fffL; // a large page's address bits below its size
                } else {
                    rsvd |= PS;
                }
            }
            if ((e & rsvd) != 0) {
                throw fault(lin, access, user, PF_P | PF_RSVD);
            }
            rw &= (e & RW) != 0;
            us &= (e & US) != 0;
            xd |= nxe && (e & NX) != 0;
            entries[n] = e;
            addrs[n++] = ea;
            if (leaf) {
                long offsetMask = (1L << shift) - 1;
                pa = (e & addrMask & ~offsetMask) + (lin & offsetMask & ~0xfffL);
                pageMask = offsetMask;
                global = (c.cr4 & Cpu.CR4_PGE) != 0 && (e & G) != 0;
                return check(lin, access, user, rw, us, xd, n, true);
            }
            table = e & addrMask;
        }
        throw new IllegalStateException("unreachable");
    }

    private final long[] entries = new long[4];
    private final long[] entryAddrs = new long[4];

    private boolean walk32(long lin, int access, boolean user) {
        long[] entries = this.entries;
        long[] addrs = this.entryAddrs;
        long pdeAddr = (c.cr3 & 0xffff_f000L) + ((lin >>> 22) & 1023) * 4;
        long pde = mmu.physRead32(pdeAddr);
        if ((pde & P) == 0) {
            throw fault(lin, access, user, 0);
        }
        entries[0] = pde;
        addrs[0] = pdeAddr;
        if ((pde & PS) != 0 && (c.cr4 & Cpu.CR4_PSE) != 0) {
            // 4 MiB page; bits 20:13 of a PSE-36 entry hold physical bits 39:32 (we support bits 31:22 only)
            if ((pde & 0x3fe000L) != 0) {
                throw fault(lin, access, user, PF_P | PF_RSVD);
            }
            pa = (pde & 0xffc0_0000L) + (lin & 0x3f_f000L);
            pageMask = 0x3f_ffffL;
            global = (c.cr4 & Cpu.CR4_PGE) != 0 && (pde & G) != 0;
            return check(lin, access, user, (pde & RW) != 0, (pde & US) != 0, false, 1, false);
        }
        long pteAddr = (pde & 0xffff_f000L) + ((lin >>> 12) & 1023) * 4;
        long pte = mmu.physRead32(pteAddr);
        if ((pte & P) == 0) {
            throw fault(lin, access, user, 0);
        }
        entries[1] = pte;
        addrs[1] = pteAddr;
        pa = pte & 0xffff_f000L;
        pageMask = 0xfff;
        global = (c.cr4 & Cpu.CR4_PGE) != 0 && (pte & G) != 0;
        return check(lin, access, user, (pde & pte & RW) != 0, (pde & pte & US) != 0, false, 2, false);
    }

    /** Permission check, then A (all levels) and D (leaf, on write); false if an entry changed meanwhile. */
    private boolean check(long lin, int access, boolean user, boolean rw, boolean us, boolean xd, int n,
            boolean wide) {
        boolean wp = (c.cr0 & Cpu.CR0_WP) != 0;
        writable = user ? us && rw : rw || !wp;
        executable = !xd && (!user || us);
        boolean ok = switch (access) {
            case WRITE -> writable;
            case EXEC -> executable;
            default -> !user || us;
        };
        if (!ok) {
            throw fault(lin, access, user, PF_P);
        }
        for (int i = 0; i < n; i++) {
            long e = entries[i];
            long want = e | A;
            if (i == n - 1 && access == WRITE) {
                want |= D;
            }
            if (want != e) {
                boolean set = wide ? mmu.physCas64(entryAddrs[i], e, want)
                        : mmu.physCas32(entryAddrs[i], e, want);
                if (!set) {
                    return false;
                }
            }
        }
        return true;
    }

    private CpuException fault(long lin, int access, boolean user, int bits) {
        int err = bits;
        if (access == WRITE) {
            err |= PF_W;
        }
        if (user) {
            err |= PF_U;
        }
        if (access == EXEC && ((c.efer & Cpu.EFER_NXE) != 0 || (c.cr4 & Cpu.CR4_SMEP) != 0)) {
            err |= PF_I;
        }
        c.cr2 = lin;
        return new CpuException(CpuException.PF, err);
    }
}
