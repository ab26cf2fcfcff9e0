package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuEvents;
import dev.thaw.api.state.VcpuState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** State export and import: round trips, imported CPUID and MSRs, pending events and the interrupt shadow. */
class StateTest {

    private static TestCpu system() {
        TestCpu t = new TestCpu(4 << 20, false);
        SystemTables.install(t);
        return t;
    }

    @Test
    void exportImportExportIsTheSame() {
        try (TestCpu t = system()) {
            SystemTables.enterUser(t);
            for (int k = 0; k < 16; k++) {
                t.c.r[k] = 0x1111_1111_1111_1111L * k;
            }
            t.c.rip = 0x12345;
            t.c.setRflags(0x3246);
            t.cpu.msrs.lstar = 0xffff_ffff_8100_0000L;
            t.cpu.msrs.kernelGsBase = 0x7777;
            t.c.segBase[Cpu.GS] = 0x8888;
            t.c.shadow = Cpu.SHADOW_STI;
            CpuState s = t.cpu.exportState();
            Interpreter fresh = new Interpreter(t.memory, new AtomicityTest.GuestHarnessBus(), new TestCpu.TestIrq(), 0);
            fresh.importState(s);
            CpuState again = fresh.exportState();
            assertEquals(s.regs(), again.regs());
            assertEquals(s.sregs(), again.sregs());
            assertEquals(s.events(), again.events());
            assertEquals(s.cpuid(), again.cpuid());
            assertEquals(s.xsave(), again.xsave());
            assertEquals(s.xcrs(), again.xcrs());
            assertEquals(s.debugRegs(), again.debugRegs());
            assertEquals(s.mpState(), again.mpState());
            assertEquals(withoutTsc(s.msrs()), withoutTsc(again.msrs()));
            assertEquals(3, fresh.c.cpl);
            assertEquals(Cpu.SHADOW_STI, again.events().interrupt().shadow());
        }
    }

    private static List<MsrEntry> withoutTsc(List<MsrEntry> msrs) {
        List<MsrEntry> out = new ArrayList<>();
        for (MsrEntry e : msrs) {
            if (e.index() != Msrs.TSC) {
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void tscContinuesFromTheImportedValue() {
        try (TestCpu t = system()) {
            CpuState s = t.cpu.exportState();
            List<MsrEntry> msrs = new ArrayList<>();
            for (MsrEntry e : s.msrs()) {
                msrs.add(e.index() == Msrs.TSC ? new MsrEntry(Msrs.TSC, 1L << 40) : e);
            }
            t.cpu.importState(new CpuState(s.cpuid(), s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(),
                    s.debugRegs(), msrs, s.events()));
            t.exec(1, 0x0f, 0x31); // rdtsc
            long tsc = t.c.r[Cpu.RDX] << 32 | t.c.r[Cpu.RAX];
            assertTrue(tsc >= 1L << 40 && tsc < (1L << 40) + 10_000_000_000L, Long.toHexString(tsc));
        }
    }

    /**
     * A snapshot's TSC rate is the guest's: an interpreter given a state saved at 3 GHz counts three ticks a
     * nanosecond, and saves that rate again. The two RDTSCs are bracketed by host clock reads, so the elapsed
     * time between them is known to within those brackets, and 1 GHz (the interpreter's own rate) falls far
     * outside what 3 GHz allows.
     */
    @Test
    void tscCountsAtTheImportedRateAndExportsIt() throws Exception {
        try (TestCpu t = system()) {
            CpuState s = t.cpu.exportState();
            assertEquals(Msrs.DEFAULT_TSC_KHZ, s.tscKhz(), "the interpreter's own rate is saved");
            long khz = 3_000_000;
            t.cpu.importState(withTscKhz(s, khz));
            assertEquals(khz, t.cpu.exportState().tscKhz());

            long before1 = System.nanoTime();
            long tsc1 = rdtsc(t);
            long after1 = System.nanoTime();
            Thread.sleep(50);
            long before2 = System.nanoTime();
            long tsc2 = rdtsc(t);
            long after2 = System.nanoTime();
            long ticks = tsc2 - tsc1;
            long least = (before2 - after1) * khz / 1_000_000 - 1;
            long most = (after2 - before1) * khz / 1_000_000 + 1;
            assertTrue(ticks >= least && ticks <= most, ticks + " ticks, expected " + least + " to " + most);
        }
    }

    /** A state that does not say its rate (saved before Thaw recorded it) runs at the interpreter's own rate. */
    @Test
    void aStateWithoutARateRunsAtTheInterpretersOwn() {
        try (TestCpu t = system()) {
            CpuState s = t.cpu.exportState();
            t.cpu.importState(withTscKhz(s, 2_500_000));
            t.cpu.importState(withTscKhz(s, VcpuState.TSC_KHZ_UNKNOWN));
            assertEquals(Msrs.DEFAULT_TSC_KHZ, t.cpu.exportState().tscKhz());
        }
    }

    private static CpuState withTscKhz(CpuState s, long khz) {
        return new CpuState(s.cpuid(), s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(), s.debugRegs(), s.msrs(),
                s.events(), khz);
    }

    private static long rdtsc(TestCpu t) {
        t.exec(1, 0x0f, 0x31);
        return t.c.r[Cpu.RDX] << 32 | t.c.r[Cpu.RAX];
    }

    @Test
    void importedCpuidAndUnknownMsrsAreKept() {
        try (TestCpu t = system()) {
            CpuState s = t.cpu.exportState();
            List<CpuidEntry> cpuid = List.of(new CpuidEntry(0, 0, 0, 1, 0x68747541, 0x444d4163, 0x69746e65),
                    new CpuidEntry(1, 0, 0, 0xa00f11, 0x0500_0800, 0, 0),
                    new CpuidEntry(0x8000_0000L, 0, 0, 0x8000_0001L, 0, 0, 0),
                    new CpuidEntry(0x8000_0001L, 0, 0, 0, 0, 0, 1L << 20 | 1L << 26 | 1L << 29));
            List<MsrEntry> msrs = new ArrayList<>(s.msrs());
            msrs.add(new MsrEntry(0x4b56_4d01L, 0x1234)); // a KVM paravirtual MSR
            t.cpu.importState(new CpuState(cpuid, s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(),
                    s.debugRegs(), msrs, s.events()));
            t.c.r[Cpu.RAX] = 1;
            StopReason r0 = t.exec(1, 0x0f, 0xa2);
            assertEquals(0x0500_0800L, t.c.r[Cpu.RBX], () -> "answered from the imported table " + r0 + " rip "
                    + Long.toHexString(t.c.rip) + " rax " + Long.toHexString(t.c.r[0]));
            t.c.r[Cpu.RAX] = 0x8000_0002L;
            t.exec(1, 0x0f, 0xa2);
            assertEquals(0x0500_0800L, t.c.r[Cpu.RBX], "beyond the table: the highest basic leaf, as Intel");
            t.c.r[Cpu.RAX] = 1;
            t.c.r[Cpu.RBX] = 0;
            t.c.r[Cpu.RCX] = 0;
            t.exec(1, 0xf3, 0x48, 0x0f, 0xb8, 0xc3); // popcnt: not in the imported CPUID, so #UD
            assertEquals(SystemTables.handler(6), t.c.rip);
            t.c.r[Cpu.RCX] = 0x4b56_4d01L;
            t.exec(1, 0x0f, 0x32); // rdmsr
            assertEquals(0x1234, t.c.r[Cpu.RAX]);
            assertTrue(t.cpu.exportState().msrs().contains(new MsrEntry(0x4b56_4d01L, 0x1234)));
            assertEquals(cpuid, t.cpu.exportState().cpuid());
        }
    }

    @Test
    void pendingEventsAreDeliveredAtTheFirstBoundary() {
        try (TestCpu t = system()) {
            t.c.rip = TestCpu.CODE;
            t.put(TestCpu.CODE, 0x90);
            CpuState s = t.cpu.exportState();
            VcpuEvents pf = new VcpuEvents(new VcpuEvents.ExceptionState(0, 14, 1, 1, 0x6),
                    new VcpuEvents.InterruptState(0, 0, 0, 0), new VcpuEvents.NmiState(0, 0, 0), 0, 0x10,
                    new VcpuEvents.SmiState(0, 0, 0, 0), 0, 1, 0xabc000);
            t.cpu.importState(new CpuState(s.cpuid(), s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(),
                    s.debugRegs(), s.msrs(), pf));
            assertEquals(14, t.cpu.exportState().events().exception().nr(), "still pending when exported");
            assertEquals(StopReason.Kind.HALTED, t.cpu.run(10).kind());
            assertEquals(SystemTables.handler(14) + 1, t.c.rip);
            assertEquals(6, t.get64(t.c.r[Cpu.RSP]));
            assertEquals(TestCpu.CODE, t.get64(t.c.r[Cpu.RSP] + 8));
            assertEquals(0xabc000, t.c.cr2, "the payload is CR2");

            long[] bitmap = new long[Sregs.INTERRUPT_BITMAP_WORDS];
            bitmap[0x41 >>> 6] = 1L << (0x41 & 63);
            Sregs sr = s.sregs();
            Sregs withIrq = new Sregs(sr.cs(), sr.ds(), sr.es(), sr.fs(), sr.gs(), sr.ss(), sr.tr(), sr.ldt(), sr.gdt(),
                    sr.idt(), sr.cr0(), sr.cr2(), sr.cr3(), sr.cr4(), sr.cr8(), sr.efer(), sr.apicBase(), bitmap);
            t.cpu.importState(new CpuState(s.cpuid(), MpState.HALTED, s.regs(), withIrq, s.xsave(), s.xcrs(),
                    s.debugRegs(), s.msrs(), s.events()));
            assertEquals(StopReason.Kind.HALTED, t.cpu.run(10).kind());
            assertEquals(SystemTables.handler(0x41) + 1, t.c.rip, "an accepted interrupt wakes a halted vCPU");
            assertEquals("", t.irq.log.toString(), "already acknowledged before the snapshot");
        }
    }

    @Test
    void importedInterruptShadowHoldsOffOneInstruction() {
        try (TestCpu t = system()) {
            t.c.setRflags(0x202);
            t.c.rip = TestCpu.CODE;
            t.put(TestCpu.CODE, 0x90, 0x90);
            CpuState s = t.cpu.exportState();
            VcpuEvents shadow = new VcpuEvents(new VcpuEvents.ExceptionState(0, 0, 0, 0, 0),
                    new VcpuEvents.InterruptState(0, 0, 0, Cpu.SHADOW_STI), new VcpuEvents.NmiState(0, 0, 0), 0, 4,
                    new VcpuEvents.SmiState(0, 0, 0, 0), 0, 0, 0);
            t.cpu.importState(new CpuState(s.cpuid(), s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(),
                    s.debugRegs(), s.msrs(), shadow));
            t.irq.pending = 0x50;
            t.cpu.run(1);
            assertEquals(TestCpu.CODE + 1, t.c.rip, "the first instruction runs in the shadow");
            t.cpu.run(1);
            assertEquals(SystemTables.handler(0x50) + 1, t.c.rip);
            assertEquals(TestCpu.CODE + 1, t.get64(t.c.r[Cpu.RSP]));
        }
    }
}
