package dev.thaw.emulated.cpu;

/**
 * The architectural state of one vCPU and the helpers every instruction group uses: general registers
 * by operand size, segment registers with their hidden parts, control registers, the execution mode.
 * RFLAGS' arithmetic bits live lazily in {@link Flags}' fields here. Not thread-safe: one vCPU thread.
 */
final class Cpu {

    // ---- register numbers ----
    static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R11 = 11;
    /** Pseudo base register: RIP-relative addressing. */
    static final int RIP_BASE = 16;

    // ---- segment register numbers (the ModRM sreg encoding), plus LDTR and TR ----
    static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;

    // ---- RFLAGS bits ----
    static final long CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400,
            OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000,
            VIP = 0x100000, ID = 0x200000;
    static final long ARITH = CF | PF | AF | ZF | SF | OF;

    // ---- segment attribute bits (VMX access-rights layout) ----
    static final int A_TYPE = 0xf, A_S = 1 << 4, A_DPL_SHIFT = 5, A_P = 1 << 7, A_AVL = 1 << 12, A_L = 1 << 13,
            A_DB = 1 << 14, A_G = 1 << 15, A_UNUSABLE = 1 << 16;

    // ---- control register bits ----
    static final long CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20,
            CR0_WP = 1L << 16, CR0_AM = 1L << 18, CR0_NW = 1L << 29, CR0_CD = 1L << 30, CR0_PG = 1L << 31;
    static final long CR4_VME = 1, CR4_PVI = 2, CR4_TSD = 4, CR4_DE = 8, CR4_PSE = 0x10, CR4_PAE = 0x20,
            CR4_MCE = 0x40, CR4_PGE = 0x80, CR4_PCE = 0x100, CR4_OSFXSR = 0x200, CR4_OSXMMEXCPT = 0x400,
            CR4_UMIP = 0x800, CR4_FSGSBASE = 0x10000, CR4_PCIDE = 0x20000, CR4_OSXSAVE = 0x40000,
            CR4_SMEP = 0x100000, CR4_SMAP = 0x200000;
    static final long EFER_SCE = 1, EFER_LME = 0x100, EFER_LMA = 0x400, EFER_NXE = 0x800;

    // ---- what the CPU is connected to (set once by the Interpreter) ----
    Mmu mmu;
    CpuBus bus;
    InterruptSource irq;
    Interpreter owner;

    // ---- general registers and RIP ----
    final long[] r = new long[16];
    /** During an instruction: the address of the next instruction (branches overwrite it). */
    long rip;
    /** The address of the instruction being executed (faults restart here). */
    long insnStart;

    // ---- RFLAGS: everything but the six arithmetic flags, and the lazy state of those ----
    long rflagsOther = 2;
    int lazyOp;
    long lzDst, lzSrc, lzRes;
    int lzShift;
    int lzCin;
    int fixedFlags;

    // ---- segments ----
    final int[] segSel = new int[8];
    final long[] segBase = new long[8];
    final long[] segLimit = new long[8];
    final int[] segAttr = new int[8];
    long gdtBase, idtBase;
    int gdtLimit, idtLimit;

    // ---- control and system registers ----
    long cr0 = CR0_ET, cr2, cr3, cr4, efer;
    final long[] dr = {0, 0, 0, 0, 0, 0, 0xffff_0ff0L, 0x400};
    int cpl;

    // ---- derived mode (recomputed by updateMode) ----
    /** 64-bit mode: EFER.LMA and CS.L. */
    boolean mode64;
    /** Protected mode (CR0.PE); false in real mode. */
    boolean protectedMode;
    /** EFER.LMA. */
    boolean longMode;
    /** Default operand and address size of the code segment: 2 or 4 (4 in 64-bit mode as well). */
    int codeSize;
    /** Stack address size: 2, 4 or 8. */
    int stackSize;
    /** What decoding depends on besides the bytes: 64-bit mode and the code size. */
    int decodeMode;

    /** 1 when CPL is 3 (user accesses), else 0: part of every TLB key. */
    int userBit;

    // ---- the one-page instruction fetch cache (see Mmu.fetch) ----
    long fetchKey = -1;
    java.lang.foreign.MemorySegment fetchSeg;
    long fetchOff;

    /**
     * Set when something may have changed what the local APIC would deliver (an MMIO or port write, a CR8
     * write, IF going to 1): the run loop asks the InterruptSource at the next boundary.
     */
    boolean checkInterrupts;

    /**
     * Set by a write to the page the current instruction came from ({@link Mmu}): the run loop ends the
     * {@link Block} after the instruction, so code the block wrote is compared again before it runs.
     */
    boolean codeWritten;

    void afterDeviceAccess() {
        checkInterrupts = true;
    }

    void setCpl(int newCpl) {
        cpl = newCpl;
        userBit = newCpl == 3 ? 1 : 0;
    }

    /** An NMI was delivered and no IRET has followed yet: further NMIs wait. */
    boolean nmiBlocked;

    // ---- interrupt shadow (STI, MOV SS / POP SS): blocks interrupts before the next instruction ----
    int shadow;
    static final int SHADOW_MOV_SS = 1, SHADOW_STI = 2;

    /** Recomputes the derived mode fields after CR0, EFER, CS or SS change. */
    void updateMode() {
        protectedMode = (cr0 & CR0_PE) != 0;
        longMode = (efer & EFER_LMA) != 0;
        int csAttr = segAttr[CS];
        mode64 = longMode && (csAttr & A_L) != 0;
        codeSize = mode64 ? 4 : (csAttr & A_DB) != 0 ? 4 : 2;
        stackSize = mode64 ? 8 : (segAttr[SS] & A_DB) != 0 ? 4 : 2;
        decodeMode = (mode64 ? 1 : 0) | codeSize << 1;
    }

    /** The mask of RIP for the current code size. */
    long ipMask() {
        return mode64 ? -1L : codeSize == 4 ? 0xffff_ffffL : 0xffffL;
    }

    // ---- general register access by operand size ----

    static long mask(int size) {
        return size == 8 ? -1L : (1L << (size << 3)) - 1;
    }

    /**
     * Register {@code n} at {@code size} bytes, zero-extended; {@code rex}: byte registers 4-7 are SPL..DIL.
     * The 64-bit case comes first and stays small, so the JIT inlines it everywhere.
     */
    long reg(int size, int n, boolean rex) {
        return size == 8 ? r[n] : narrowReg(size, n, rex);
    }

    private long narrowReg(int size, int n, boolean rex) {
        if (size == 4) {
            return r[n] & 0xffff_ffffL;
        }
        if (size == 2) {
            return r[n] & 0xffff;
        }
        if (n < 4 || rex) {
            return r[n] & 0xff;
        }
        return (r[n - 4] >>> 8) & 0xff;
    }

    /** Writes register {@code n} at {@code size}: 32-bit writes zero the upper half, 8/16-bit writes merge. */
    void setReg(int size, int n, boolean rex, long v) {
        if (size == 8) {
            r[n] = v;
        } else if (size == 4) {
            r[n] = v & 0xffff_ffffL;
        } else {
            setNarrowReg(size, n, rex, v);
        }
    }

    private void setNarrowReg(int size, int n, boolean rex, long v) {
        if (size == 2) {
            r[n] = (r[n] & ~0xffffL) | (v & 0xffff);
        } else if (n < 4 || rex) {
            r[n] = (r[n] & ~0xffL) | (v & 0xff);
        } else {
            r[n - 4] = (r[n - 4] & ~0xff00L) | ((v & 0xff) << 8);
        }
    }

    /** Sign-extends the low {@code size} bytes of {@code v}. */
    static long sext(long v, int size) {
        switch (size) {
            case 1:
                return (byte) v;
            case 2:
                return (short) v;
            case 4:
                return (int) v;
            default:
                return v;
        }
    }

    // ---- RFLAGS ----

    long rflags() {
        return rflagsOther | Flags.arith(this);
    }

    /** Sets RFLAGS to {@code v} as given (callers apply the privilege rules first). */
    void setRflags(long v) {
        rflagsOther = (v & ~ARITH & 0x3f_7fd7L) | 2;
        fixedFlags = (int) (v & ARITH);
        lazyOp = Flags.NONE;
    }

    boolean interruptsEnabled() {
        return (rflagsOther & IF) != 0;
    }

    int iopl() {
        return (int) (rflagsOther >>> 12) & 3;
    }

    int segDpl(int seg) {
        return (segAttr[seg] >>> A_DPL_SHIFT) & 3;
    }

    /** A real-mode (or virtual-8086) style segment: base = selector * 16, limit 64 KiB, data type. */
    void loadRealSegment(int seg, int selector) {
        segSel[seg] = selector & 0xffff;
        segBase[seg] = (selector & 0xffffL) << 4;
        if (!protectedMode) {
            // real mode keeps the cached limit and attributes, except a usable present segment
            segAttr[seg] = (segAttr[seg] & ~(A_UNUSABLE)) | A_P | A_S | (seg == CS ? 0xb : 3);
        }
    }
}
