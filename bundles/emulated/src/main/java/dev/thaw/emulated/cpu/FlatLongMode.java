package dev.thaw.emulated.cpu;

import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuEvents;

/**
 * Sets an {@link Interpreter} up in 64-bit mode with flat segments over identity-mapped memory, without
 * any guest code: for differential tests (e.g. against Unicorn) that run a few user or kernel
 * instructions. Typical use:
 *
 * <pre>{@code
 * var cpu = new Interpreter(memory, bus, irq, 0, new Interpreter.Options(1, true)); // report exceptions
 * long cr3 = FlatLongMode.identityMap(memory, 0x1000, 1L << 30);  // two pages at 0x1000 and 0x2000
 * FlatLongMode.enter(cpu, 3, cr3, 0x400000, 0x800000);             // CPL 3, RIP, RSP
 * StopReason r = cpu.run(100);
 * }</pre>
 *
 * The state: CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER = SCE|LME|LMA|NXE, CS a 64-bit code segment and
 * DS/ES/FS/GS/SS flat writable data (DPL = {@code cpl}; selectors 0x10/0x18 at CPL 0, 0x33/0x2b at CPL 3),
 * a 64-bit TSS at 0 (limit 0x67), no GDT or IDT, RFLAGS = 0x2, general registers 0.
 */
public final class FlatLongMode {

    private FlatLongMode() {}

    /**
     * Writes page tables at guest physical {@code tableBase} (a PML4 and one PDPT, 8 KiB) that map
     * [0, {@code bytes}) (rounded up to 1 GiB, at most 512 GiB) to itself with 1 GiB pages, writable, user
     * and executable; returns the CR3 value.
     */
    public static long identityMap(PhysicalMemory memory, long tableBase, long bytes) {
        long pdpt = tableBase + 0x1000;
        PhysicalMemory.Region pml4Region = memory.region(tableBase);
        PhysicalMemory.Region pdptRegion = memory.region(pdpt);
        if (pml4Region == null || pdptRegion == null) {
            throw new IllegalArgumentException("page tables must be in RAM");
        }
        memory.write(pml4Region, tableBase, 8, pdpt | 0x7);
        for (int k = 1; k < 512; k++) {
            memory.write(pml4Region, tableBase + 8L * k, 8, 0);
        }
        long gib = Math.min(512, (bytes + (1L << 30) - 1) >>> 30);
        for (int k = 0; k < 512; k++) {
            memory.write(pdptRegion, pdpt + 8L * k, 8, k < gib ? ((long) k << 30) | 0x87 : 0);
        }
        return tableBase;
    }

    /** Imports the flat 64-bit state at {@code cpl} (0 or 3) with RIP and RSP into {@code cpu}. */
    public static void enter(Interpreter cpu, int cpl, long cr3, long rip, long rsp) {
        CpuState base = cpu.exportState();
        int cs = cpl == 3 ? 0x33 : 0x10;
        int ds = cpl == 3 ? 0x2b : 0x18;
        Segment code = new Segment(0, 0xffff_ffffL, cs, 0xb, 1, cpl, 0, 1, 1, 1, 0, 0);
        Segment data = new Segment(0, 0xffff_ffffL, ds, 0x3, 1, cpl, 1, 1, 0, 1, 0, 0);
        Segment tr = new Segment(0, 0x67, 0x40, 0xb, 1, 0, 0, 0, 0, 0, 0, 0);
        Segment ldt = new Segment(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
        Sregs old = base.sregs();
        Sregs sregs = new Sregs(code, data, data, data, data, data, tr, ldt, old.gdt(), old.idt(),
                0x8005_0033L, 0, cr3, Cpu.CR4_PAE, 0, Cpu.EFER_SCE | Cpu.EFER_LME | Cpu.EFER_LMA | Cpu.EFER_NXE,
                old.apicBase(), new long[Sregs.INTERRUPT_BITMAP_WORDS]);
        Regs regs = new Regs(0, 0, 0, 0, 0, 0, rsp, 0, 0, 0, 0, 0, 0, 0, 0, 0, rip, 2);
        VcpuEvents events = new VcpuEvents(new VcpuEvents.ExceptionState(0, 0, 0, 0, 0),
                new VcpuEvents.InterruptState(0, 0, 0, 0), new VcpuEvents.NmiState(0, 0, 0), 0, 0,
                new VcpuEvents.SmiState(0, 0, 0, 0), 0, 0, 0);
        cpu.importState(new CpuState(base.cpuid(), dev.thaw.api.state.MpState.RUNNABLE, regs, sregs,
                base.xsave(), base.xcrs(), base.debugRegs(), base.msrs(), events));
    }
}
