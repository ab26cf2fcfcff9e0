package dev.thaw.emulated.cpu;

/**
 * Long-mode system structures for unit tests, written into a {@link TestCpu}'s memory, and the CPU put in
 * 64-bit mode at CPL 0 on them: GDT (0x08 kernel code, 0x10 kernel data, 0x1b user data, 0x23 user code,
 * 0x28 64-bit TSS), IDT with an interrupt gate per vector to a handler stub that is a single HLT at
 * {@link #handler(int)}, a TSS with RSP0, IST1 and an I/O bitmap that allows only ports 0x80-0x87.
 */
final class SystemTables {

    static final long GDT = 0x8000, IDT = 0x20000, TSS = 0x30000, HANDLERS = 0x40000;
    static final long RSP0 = 0x60000, IST1 = 0x70000, USER_STACK = 0x80000;
    static final int KCODE = 0x08, KDATA = 0x10, UDATA = 0x1b, UCODE = 0x23, TR = 0x28;
    static final int IO_MAP = 0x68, TSS_LIMIT = IO_MAP + 8192;

    private SystemTables() {}

    static long handler(int vector) {
        return HANDLERS + 16L * vector;
    }

    static void install(TestCpu t) {
        t.put64(GDT, 0);
        t.put64(GDT + 0x08, 0x00af9a000000ffffL);
        t.put64(GDT + 0x10, 0x00cf92000000ffffL);
        t.put64(GDT + 0x18, 0x00cff2000000ffffL);
        t.put64(GDT + 0x20, 0x00affa000000ffffL);
        t.put64(GDT + 0x28, (TSS_LIMIT & 0xffff) | (TSS & 0xffffff) << 16 | 0x89L << 40
                | ((long) (TSS_LIMIT >>> 16) & 0xf) << 48 | (TSS >>> 24 & 0xff) << 56);
        t.put64(GDT + 0x30, TSS >>> 32);
        t.put64(TSS + 4, RSP0);
        t.put64(TSS + 0x24, IST1);
        t.put(TSS + 0x66, IO_MAP & 0xff, IO_MAP >>> 8);
        for (int b = 0; b <= 8192; b++) {
            t.put(TSS + IO_MAP + b, b == 0x10 ? 0x00 : 0xff); // ports 0x80-0x87 allowed
        }
        for (int v = 0; v < 256; v++) {
            gate(t, v, handler(v), 0, 0);
            t.put(handler(v), 0xf4); // hlt
        }
        Cpu c = t.c;
        c.gdtBase = GDT;
        c.gdtLimit = 0x37;
        c.idtBase = IDT;
        c.idtLimit = 0xfff;
        Segments.cache(c, Cpu.CS, KCODE, t.get64(GDT + KCODE));
        for (int s : new int[] {Cpu.SS, Cpu.DS, Cpu.ES, Cpu.FS, Cpu.GS}) {
            Segments.cache(c, s, KDATA, t.get64(GDT + KDATA));
        }
        c.segSel[Cpu.TR] = TR;
        c.segBase[Cpu.TR] = TSS;
        c.segLimit[Cpu.TR] = TSS_LIMIT;
        c.segAttr[Cpu.TR] = 0xb | Cpu.A_P;
        c.setCpl(0);
        c.updateMode();
        c.r[Cpu.RSP] = 0x58000;
        c.mmu.flushAll();
    }

    /** A 64-bit interrupt gate (type 0xE) or trap gate ({@code trap}) for {@code vector}. */
    static void gate(TestCpu t, int vector, long target, int dpl, int ist) {
        gate(t, vector, target, dpl, ist, false, true);
    }

    static void gate(TestCpu t, int vector, long target, int dpl, int ist, boolean trap, boolean present) {
        long type = trap ? 0xf : 0xe;
        long lo = (target & 0xffff) | (long) KCODE << 16 | (long) ist << 32 | (type | (long) dpl << 5
                | (present ? 0x80 : 0)) << 40 | (target >>> 16 & 0xffff) << 48;
        t.put64(IDT + 16L * vector, lo);
        t.put64(IDT + 16L * vector + 8, target >>> 32);
    }

    /** Switches to CPL 3 (user code and data segments) with RSP at the user stack. */
    static void enterUser(TestCpu t) {
        Cpu c = t.c;
        Segments.cache(c, Cpu.CS, UCODE, t.get64(GDT + 0x20));
        Segments.cache(c, Cpu.SS, UDATA, t.get64(GDT + 0x18));
        c.setCpl(3);
        c.updateMode();
        c.r[Cpu.RSP] = USER_STACK;
    }
}
