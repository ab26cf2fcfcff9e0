package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * 32-bit protected mode and real mode: interrupt delivery through 8-byte gates with and without a stack
 * switch from the 32-bit TSS, IRET to an outer level, far CALL and RET, far RET to an outer level, the
 * real-mode IVT, and the single-step trap.
 */
class ProtectedModeTest {

    static final long GDT = 0x8000, IDT = 0x20000, TSS = 0x30000, HANDLERS = 0x40000, ESP0 = 0x60000;

    private static TestCpu protectedMode() {
        TestCpu t = new TestCpu(4 << 20, false);
        t.put64(GDT, 0);
        t.put64(GDT + 0x08, 0x00cf9a000000ffffL); // ring 0 code
        t.put64(GDT + 0x10, 0x00cf92000000ffffL); // ring 0 data
        t.put64(GDT + 0x18, 0x00cff2000000ffffL); // ring 3 data (0x1b)
        t.put64(GDT + 0x20, 0x00cffa000000ffffL); // ring 3 code (0x23)
        t.put64(GDT + 0x28, 0x67 | (TSS & 0xffffff) << 16 | 0x89L << 40);
        t.mem.set(ValueLayout.JAVA_INT_UNALIGNED, TSS + 4, (int) ESP0);
        t.mem.set(ValueLayout.JAVA_INT_UNALIGNED, TSS + 8, 0x10);
        for (int v = 0; v < 256; v++) {
            long target = HANDLERS + 16L * v;
            long dpl = v == 0x80 ? 3 : 0;
            t.put64(IDT + 8L * v, (target & 0xffff) | 0x08L << 16 | (0x8eL | dpl << 5) << 40 | (target >>> 16) << 48);
            t.put(target, 0xf4);
        }
        Cpu c = t.c;
        c.efer = 0;
        c.cr0 = Cpu.CR0_PE | Cpu.CR0_ET;
        c.cr4 = 0;
        c.gdtBase = GDT;
        c.gdtLimit = 0x2f;
        c.idtBase = IDT;
        c.idtLimit = 0x7ff;
        Segments.cache(c, Cpu.CS, 0x08, t.get64(GDT + 0x08));
        for (int s : new int[] {Cpu.SS, Cpu.DS, Cpu.ES, Cpu.FS, Cpu.GS}) {
            Segments.cache(c, s, 0x10, t.get64(GDT + 0x10));
        }
        c.segSel[Cpu.TR] = 0x28;
        c.segBase[Cpu.TR] = TSS;
        c.segLimit[Cpu.TR] = 0x67;
        c.segAttr[Cpu.TR] = 0xb | Cpu.A_P;
        c.setCpl(0);
        c.updateMode();
        c.mmu.flushAll();
        c.r[Cpu.RSP] = 0x58000;
        return t;
    }

    private static void toRing3(TestCpu t, long esp) {
        Segments.cache(t.c, Cpu.CS, 0x23, t.get64(GDT + 0x20));
        Segments.cache(t.c, Cpu.SS, 0x1b, t.get64(GDT + 0x18));
        t.c.setCpl(3);
        t.c.updateMode();
        t.c.r[Cpu.RSP] = esp;
    }

    private static long stack32(TestCpu t, int slot) {
        return t.mem.get(ValueLayout.JAVA_INT_UNALIGNED, t.c.r[Cpu.RSP] + 4L * slot) & 0xffff_ffffL;
    }

    @Test
    void intFromRing3SwitchesToTheTssStack() {
        try (TestCpu t = protectedMode()) {
            toRing3(t, 0x70000);
            t.c.setRflags(0x202);
            StopReason r = t.exec(10, 0xcd, 0x80); // int 0x80
            assertEquals(StopReason.Kind.HALTED, r.kind(), r::toString);
            assertEquals(HANDLERS + 16 * 0x80 + 1, t.c.rip);
            assertEquals(0, t.c.cpl);
            assertEquals(ESP0 - 20, t.c.r[Cpu.RSP]);
            assertEquals(0x10, t.c.segSel[Cpu.SS]);
            assertEquals(TestCpu.CODE + 2, stack32(t, 0));
            assertEquals(0x23, stack32(t, 1));
            assertEquals(0x202, stack32(t, 2));
            assertEquals(0x70000, stack32(t, 3));
            assertEquals(0x1b, stack32(t, 4));
            // IRET back to ring 3 (nop there, then hlt faults with #GP)
            t.put(TestCpu.CODE + 2, 0x90, 0xf4);
            t.put(HANDLERS + 16 * 0x80 + 1, 0xcf); // replace the handler's second byte: iret
            t.cpu.halted = false;
            t.cpu.run(2);
            assertEquals(3, t.c.cpl);
            assertEquals(TestCpu.CODE + 3, t.c.rip);
            assertEquals(0x70000, t.c.r[Cpu.RSP]);
            assertEquals(0x23, t.c.segSel[Cpu.CS]);
            assertTrue(t.c.interruptsEnabled());
        }
    }

    @Test
    void faultAtRing0PushesTheErrorCodeOnTheSameStack() {
        try (TestCpu t = protectedMode()) {
            t.c.r[Cpu.RAX] = 0x1b; // a DPL 3 data segment into SS at CPL 0: #GP(0x18)
            StopReason r = t.exec(10, 0x8e, 0xd0);
            assertEquals(StopReason.Kind.HALTED, r.kind());
            assertEquals(HANDLERS + 16 * 13 + 1, t.c.rip);
            assertEquals(0x58000 - 16, t.c.r[Cpu.RSP]);
            assertEquals(0x18, stack32(t, 0));
            assertEquals(TestCpu.CODE, stack32(t, 1));
            assertEquals(0x08, stack32(t, 2));
        }
    }

    @Test
    void farCallAndReturnsIncludingToAnOuterLevel() {
        try (TestCpu t = protectedMode()) {
            t.put(0x12000, 0xcb); // retf
            t.exec(2, 0x9a, 0x00, 0x20, 0x01, 0x00, 0x08, 0x00); // call far 0x08:0x12000; retf
            assertEquals(TestCpu.CODE + 7, t.c.rip);
            assertEquals(0x58000, t.c.r[Cpu.RSP]);
            // retf to ring 3: the frame holds EIP, CS, ESP, SS
            long sp = 0x58000 - 16;
            t.c.r[Cpu.RSP] = sp;
            t.mem.set(ValueLayout.JAVA_INT_UNALIGNED, sp, 0x13000);
            t.mem.set(ValueLayout.JAVA_INT_UNALIGNED, sp + 4, 0x23);
            t.mem.set(ValueLayout.JAVA_INT_UNALIGNED, sp + 8, 0x71000);
            t.mem.set(ValueLayout.JAVA_INT_UNALIGNED, sp + 12, 0x1b);
            t.exec(1, 0xcb);
            assertEquals(3, t.c.cpl);
            assertEquals(0x13000, t.c.rip);
            assertEquals(0x71000, t.c.r[Cpu.RSP]);
            assertEquals(0, t.c.segSel[Cpu.DS], "DS (DPL 0) is nulled on the way out");
        }
    }

    @Test
    void realModeInterruptsUseTheIvt() {
        try (TestCpu t = protectedMode()) {
            Cpu c = t.c;
            c.cr0 = Cpu.CR0_ET;
            c.idtBase = 0;
            c.idtLimit = 0x3ff;
            for (int s = 0; s < 6; s++) {
                c.segSel[s] = 0;
                c.segBase[s] = 0;
                c.segLimit[s] = 0xffff;
                c.segAttr[s] = (s == Cpu.CS ? 0xb : 3) | Cpu.A_S | Cpu.A_P;
            }
            c.loadRealSegment(Cpu.CS, 0x1000); // code at 0x10000 = CS 0x1000 : IP 0
            c.setCpl(0);
            c.updateMode();
            c.mmu.flushAll();
            t.mem.set(ValueLayout.JAVA_INT_UNALIGNED, 0x21 * 4, 0x2000_0010); // vector 0x21 -> 2000:0010
            t.put(0x20010, 0xcf); // iret
            t.put(TestCpu.CODE, 0xcd, 0x21, 0x90);
            c.r[Cpu.RSP] = 0x8000;
            c.setRflags(0x202);
            c.rip = 0;
            t.cpu.run(1);
            assertEquals(0x2000, c.segSel[Cpu.CS]);
            assertEquals(0x10, c.rip);
            assertEquals(0x8000 - 6, c.r[Cpu.RSP]);
            assertEquals(2, t.mem.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0x8000 - 6), "return IP");
            assertTrue(!c.interruptsEnabled());
            t.cpu.run(1); // iret
            assertEquals(0x1000, c.segSel[Cpu.CS]);
            assertEquals(2, c.rip);
            assertTrue(c.interruptsEnabled());
        }
    }

    @Test
    void trapFlagSingleSteps() {
        try (TestCpu t = protectedMode()) {
            t.c.setRflags(0x102); // TF
            StopReason r = t.exec(10, 0x90, 0x90);
            assertEquals(StopReason.Kind.HALTED, r.kind());
            assertEquals(HANDLERS + 16 + 1, t.c.rip, "#DB after the first nop");
            assertEquals(TestCpu.CODE + 1, stack32(t, 0));
            assertTrue((t.c.dr[6] & 0x4000) != 0, "DR6.BS");
        }
    }
}
