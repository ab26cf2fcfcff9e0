package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Exceptions and interrupts through the long-mode IDT: privilege change to TSS.RSP0, the IST, the 64-bit
 * frame with its error code, CR2, #DF when delivery faults, triple fault, software interrupts and their
 * DPL check, IRETQ, SYSCALL/SYSRET, the STI and MOV SS interrupt shadows, HLT, and port I/O permissions.
 * Each IDT handler is a HLT, so a delivered event ends the run with HALTED on the handler.
 */
class InterruptDeliveryTest {

    private static TestCpu system() {
        TestCpu t = new TestCpu(4 << 20, false);
        SystemTables.install(t);
        return t;
    }

    /** Runs until HLT and checks the CPU stopped in the handler of {@code vector}. */
    private static void assertDelivered(TestCpu t, int vector) {
        StopReason r = t.cpu.run(100);
        assertEquals(StopReason.Kind.HALTED, r.kind(), () -> r + " rip 0x" + Long.toHexString(t.c.rip));
        assertEquals(SystemTables.handler(vector) + 1, t.c.rip, "in the handler of vector " + vector);
    }

    @Test
    void pageFaultFromUserModeSwitchesToRsp0WithTheFullFrame() {
        try (TestCpu t = system()) {
            SystemTables.enterUser(t);
            t.c.setRflags(0x202);
            t.c.r[Cpu.RBX] = 0xdead000000L;
            t.put(TestCpu.CODE, 0x48, 0x8b, 0x03); // mov rax, [rbx]
            t.c.rip = TestCpu.CODE;
            assertDelivered(t, 14);
            assertEquals(0, t.c.cpl);
            assertEquals(0xdead000000L, t.c.cr2);
            long sp = t.c.r[Cpu.RSP];
            assertEquals(SystemTables.RSP0 - 48, sp);
            assertEquals(4, t.get64(sp), "error code: user read of a non-present page");
            assertEquals(TestCpu.CODE, t.get64(sp + 8), "RIP of the faulting instruction");
            assertEquals(SystemTables.UCODE, t.get64(sp + 16));
            assertEquals(0x202, t.get64(sp + 24));
            assertEquals(SystemTables.USER_STACK, t.get64(sp + 32));
            assertEquals(SystemTables.UDATA, t.get64(sp + 40));
            assertEquals(SystemTables.KCODE, t.c.segSel[Cpu.CS]);
            assertEquals(0, t.c.segSel[Cpu.SS], "SS is a null selector with RPL 0");
            assertFalse(t.c.interruptsEnabled(), "an interrupt gate clears IF");
        }
    }

    @Test
    void istStackIsUsedAndAlignedAtTheSamePrivilege() {
        try (TestCpu t = system()) {
            SystemTables.gate(t, 13, SystemTables.handler(13), 0, 1);
            t.c.r[Cpu.RSP] = 0x50008; // misaligned on purpose: the IST is used as is, aligned down
            t.exec(100, 0x0f, 0x01, 0xf8 + 0); // swapgs at CPL 0 is fine; next: a #GP
            t.put(TestCpu.CODE, 0x8e, 0xd8); // mov ds, ax with ax = 0x1233 beyond the GDT: #GP(0x1230)
            t.c.r[Cpu.RAX] = 0x1233;
            t.c.rip = TestCpu.CODE;
            assertDelivered(t, 13);
            long sp = t.c.r[Cpu.RSP];
            assertEquals(SystemTables.IST1 - 48, sp);
            assertEquals(0x1230, t.get64(sp), "selector error code");
            assertEquals(0x50008, t.get64(sp + 32), "the old RSP");
            assertEquals(SystemTables.KDATA, t.get64(sp + 40), "the old SS");
        }
    }

    @Test
    void faultWhileDeliveringBecomesDoubleFaultThenTripleFault() {
        try (TestCpu t = system()) {
            SystemTables.gate(t, 14, SystemTables.handler(14), 0, 0, false, false); // #PF gate not present
            t.c.r[Cpu.RBX] = 0xdead000000L;
            t.exec(0, 0x48, 0x8b, 0x03);
            assertDelivered(t, 8);
            assertEquals(0, t.get64(t.c.r[Cpu.RSP]), "#DF error code");
            assertEquals(TestCpu.CODE, t.get64(t.c.r[Cpu.RSP] + 8));

            SystemTables.gate(t, 8, SystemTables.handler(8), 0, 0, false, false); // #DF gate gone too
            t.c.r[Cpu.RSP] = 0x58000;
            StopReason r = t.exec(100, 0x48, 0x8b, 0x03);
            assertEquals(StopReason.Kind.SHUTDOWN, r.kind());
            assertTrue(r.reason().startsWith("triple fault"), r.reason());
            assertEquals(StopReason.Kind.SHUTDOWN, t.cpu.run(100).kind(), "stays shut down");
        }
    }

    @Test
    void softwareInterruptChecksTheGateDpl() {
        try (TestCpu t = system()) {
            SystemTables.gate(t, 0x80, SystemTables.handler(0x80), 3, 0);
            SystemTables.enterUser(t);
            t.exec(0, 0xcd, 0x80); // int 0x80: allowed from CPL 3
            assertDelivered(t, 0x80);
            assertEquals(TestCpu.CODE + 2, t.get64(t.c.r[Cpu.RSP]), "returns after INT");

            SystemTables.enterUser(t);
            t.exec(0, 0xcd, 0x81); // DPL 0 gate: #GP(0x81 * 8 + 2)
            assertDelivered(t, 13);
            assertEquals(0x81 * 8 + 2, t.get64(t.c.r[Cpu.RSP]));
            assertEquals(TestCpu.CODE, t.get64(t.c.r[Cpu.RSP] + 8), "#GP on the INT itself");
        }
    }

    @Test
    void iretqReturnsToUserMode() {
        try (TestCpu t = system()) {
            long sp = 0x58000 - 40;
            t.c.r[Cpu.RSP] = sp;
            t.put64(sp, 0x11000);
            t.put64(sp + 8, SystemTables.UCODE);
            t.put64(sp + 16, 0x3202);
            t.put64(sp + 24, 0x81230);
            t.put64(sp + 32, SystemTables.UDATA);
            t.put(0x11000, 0x90, 0xf4); // nop; hlt (#GP at CPL 3)
            t.exec(2, 0x48, 0xcf); // iretq, then nop
            assertEquals(3, t.c.cpl);
            assertEquals(0x11001, t.c.rip);
            assertEquals(0x81230, t.c.r[Cpu.RSP]);
            assertEquals(0x3202, t.c.rflags());
            assertEquals(SystemTables.UDATA, t.c.segSel[Cpu.SS]);
            assertTrue(t.c.mode64);
            assertDelivered(t, 13); // hlt at CPL 3
        }
    }

    @Test
    void syscallAndSysretSwitchPrivilege() throws Exception {
        try (TestCpu t = system()) {
            t.c.efer |= Cpu.EFER_SCE;
            Msrs m = t.cpu.msrs;
            m.star = 0x0013_0008_0000_0000L;
            m.lstar = 0x12000;
            m.sfmask = 0x200; // clear IF
            t.put(0x12000, 0x48, 0x0f, 0x07); // sysretq
            SystemTables.enterUser(t);
            t.c.setRflags(0x246);
            t.exec(1, 0x0f, 0x05, 0x90); // syscall; nop
            assertEquals(0, t.c.cpl);
            assertEquals(0x12000, t.c.rip);
            assertEquals(TestCpu.CODE + 2, t.c.r[Cpu.RCX]);
            assertEquals(0x246, t.c.r[11]);
            assertFalse(t.c.interruptsEnabled());
            assertEquals(0x08, t.c.segSel[Cpu.CS]);
            assertEquals(0x10, t.c.segSel[Cpu.SS]);
            t.cpu.run(1); // sysretq
            assertEquals(3, t.c.cpl);
            assertEquals(TestCpu.CODE + 2, t.c.rip);
            assertEquals(0x23, t.c.segSel[Cpu.CS]);
            assertEquals(0x1b, t.c.segSel[Cpu.SS]);
            assertEquals(0x246, t.c.rflags());
            assertTrue(t.c.mode64);
        }
    }

    @Test
    void stiShadowDelaysTheInterruptByOneInstruction() {
        try (TestCpu t = system()) {
            t.irq.pending = 0x30;
            t.exec(100, 0xfb, 0x90, 0x90, 0xf4); // sti; nop; nop; hlt
            assertEquals(SystemTables.handler(0x30) + 1, t.c.rip);
            assertEquals(TestCpu.CODE + 2, t.get64(t.c.r[Cpu.RSP]), "taken after the nop that follows sti");
            assertEquals("ack 48\n", t.irq.log.toString());
        }
    }

    @Test
    void movSsShadowDelaysTheInterruptByOneInstruction() {
        try (TestCpu t = system()) {
            t.c.setRflags(0x202);
            t.c.r[Cpu.RAX] = SystemTables.KDATA;
            t.put(TestCpu.CODE, 0x8e, 0xd0, 0x90, 0x90); // mov ss, ax; nop; nop
            t.c.rip = TestCpu.CODE;
            t.cpu.run(1);
            t.irq.pending = 0x31;
            t.cpu.requestInterruptCheck();
            t.cpu.run(1); // the nop in the shadow
            assertEquals(TestCpu.CODE + 3, t.c.rip, "not yet delivered");
            t.cpu.run(1); // boundary: delivered, then the handler's hlt
            assertEquals(SystemTables.handler(0x31) + 1, t.c.rip);
            assertEquals(TestCpu.CODE + 3, t.get64(t.c.r[Cpu.RSP]));
        }
    }

    @Test
    void haltWaitsForAnInterrupt() {
        try (TestCpu t = system()) {
            t.c.setRflags(0x202);
            StopReason r = t.exec(100, 0xf4, 0x90);
            assertEquals(StopReason.Kind.HALTED, r.kind());
            assertEquals(TestCpu.CODE + 1, t.c.rip);
            assertEquals(StopReason.Kind.HALTED, t.cpu.run(100).kind(), "nothing pending: still halted");
            assertEquals(StopReason.Kind.HALTED, t.cpu.exportState().mpState().state() == 3
                    ? StopReason.Kind.HALTED : StopReason.Kind.BUDGET);
            t.irq.pending = 0x40;
            assertDelivered(t, 0x40);
            assertEquals(TestCpu.CODE + 1, t.get64(t.c.r[Cpu.RSP]), "returns after the hlt");
        }
    }

    @Test
    void portAccessAtCpl3FollowsTheIoBitmap() {
        try (TestCpu t = system()) {
            SystemTables.enterUser(t);
            t.c.r[Cpu.RAX] = 0x5a;
            StopReason r = t.exec(1, 0xe6, 0x84); // out 0x84, al: allowed by the bitmap
            assertEquals(StopReason.Kind.BUDGET, r.kind());
            assertEquals("out 84/1=5a\n", t.ports.toString());
            t.c.r[Cpu.RDX] = 0x86;
            t.exec(1, 0x66, 0xef); // out dx, ax: ports 0x86-0x87, allowed
            t.c.r[Cpu.RDX] = 0x87;
            t.exec(1, 0x66, 0xef); // ports 0x87-0x88: 0x88 denied
            assertEquals(SystemTables.handler(13), t.c.rip);
            assertEquals("out 84/1=5a\nout 86/2=5a\n", t.ports.toString());
        }
    }
}
