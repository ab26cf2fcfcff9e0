package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.state.MpState;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The power-up and INIT states, start-up IPIs and the MP states they leave, and NMI delivery and blocking. */
class StartupAndNmiTest {

    private static Interpreter vcpu(Mapping ram, int apicId) {
        PhysicalMemory memory = new PhysicalMemory(List.of(new PhysicalMemory.RamRegion(0, ram.size(), ram.segment(),
                ram.address())), (a, w) -> Libc.madvise(a, 4096, w ? Libc.MADV_POPULATE_WRITE : Libc.MADV_POPULATE_READ));
        return new Interpreter(memory, null, new TestCpu.TestIrq(), apicId, new Interpreter.Options(2, false));
    }

    private static void assertResetVector(Interpreter cpu) {
        Cpu c = cpu.c;
        assertEquals(0xf000, c.segSel[Cpu.CS]);
        assertEquals(0xffff_0000L, c.segBase[Cpu.CS]);
        assertEquals(0xfff0, c.rip);
        assertEquals(0x0003_06a9L, c.r[Cpu.RDX], "family, model, stepping");
        assertEquals(2, c.rflags());
        assertFalse(c.protectedMode);
        assertEquals(0xffff, c.idtLimit);
    }

    @Test
    void bspStartsAtTheResetVectorAndApsWaitForInitAndSipi() {
        try (Mapping ram = Mapping.anonymous(1 << 20, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_NORESERVE)) {
            Interpreter bsp = vcpu(ram, 0);
            Interpreter ap = vcpu(ram, 1);
            assertResetVector(bsp);
            assertEquals(0x6000_0010L, bsp.c.cr0);
            assertEquals(MpState.RUNNABLE, bsp.exportState().mpState());
            assertEquals(MpState.UNINITIALIZED, ap.exportState().mpState());
            assertEquals(StopReason.Kind.WAIT_FOR_SIPI, ap.run(10).kind());
            assertFalse(ap.startup(8), "before INIT a SIPI is dropped");

            ap.c.cr0 = 0x11; // as if it had run
            ap.c.r[Cpu.RAX] = 5;
            ap.halted = true;
            ap.init();
            assertResetVector(ap);
            assertEquals(0, ap.c.r[Cpu.RAX]);
            assertEquals(0x10, ap.c.cr0, "INIT keeps CD and NW (clear here)");
            assertEquals(MpState.INIT_RECEIVED, ap.exportState().mpState());
            assertTrue(ap.startup(8));
            assertEquals(MpState.RUNNABLE, ap.exportState().mpState());
            assertEquals(0x800, ap.c.segSel[Cpu.CS]);
            assertEquals(0x8000, ap.c.segBase[Cpu.CS]);
            assertEquals(0, ap.c.rip);
            assertFalse(ap.startup(9), "a second SIPI is dropped");

            bsp.init();
            assertEquals(MpState.RUNNABLE, bsp.exportState().mpState(), "the BSP runs on after INIT");
            assertResetVector(bsp);
        }
    }

    @Test
    void nmiIsDeliveredWithInterruptsOffAndBlockedUntilIret() {
        try (TestCpu t = new TestCpu(4 << 20, false)) {
            SystemTables.install(t);
            t.put(SystemTables.handler(2), 0x90, 0x48, 0xcf); // the NMI handler: nop; iretq
            t.c.setRflags(0x2);
            t.put(TestCpu.CODE, 0x90, 0x90, 0x90, 0xf4); // nop; nop; nop; hlt
            t.c.rip = TestCpu.CODE;
            t.irq.nmi = true;
            t.cpu.requestInterruptCheck();
            t.cpu.run(1); // delivered at the first boundary although IF is clear; then the nop
            assertEquals(SystemTables.handler(2) + 1, t.c.rip);
            assertTrue(t.c.nmiBlocked);
            t.irq.nmi = true; // a second one waits for the IRET
            t.cpu.requestInterruptCheck();
            t.cpu.run(1); // iretq
            assertEquals(TestCpu.CODE, t.c.rip, "returned, the second NMI not yet delivered");
            assertEquals(1, t.cpu.exportState().events().nmi().pending());
            t.cpu.run(1); // IRET unblocked it: delivered at the next boundary
            assertEquals(SystemTables.handler(2) + 1, t.c.rip);
            assertEquals(1, t.cpu.exportState().events().nmi().masked());
            t.cpu.run(1); // iretq
            assertEquals(StopReason.Kind.HALTED, t.cpu.run(100).kind());
            assertEquals(TestCpu.CODE + 4, t.c.rip);
            t.irq.nmi = true;
            t.cpu.run(1); // an NMI wakes HLT with IF clear
            assertEquals(SystemTables.handler(2) + 1, t.c.rip);
        }
    }
}
