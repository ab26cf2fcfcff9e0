package dev.thaw.emulated.diff;

import static dev.thaw.emulated.diff.GuestLayout.CODE;
import static dev.thaw.emulated.diff.GuestLayout.DATA;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.emulated.diff.Asm.Mem;
import dev.thaw.emulated.diff.Asm.Reg;
import dev.thaw.emulated.diff.CpuUnderTest.CpuState;
import dev.thaw.emulated.diff.CpuUnderTest.Outcome;
import dev.thaw.emulated.diff.CpuUnderTest.StepHint;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * The oracle adapter, checked against hand-computed results (the binding under it has its own tests in
 * the native bundle).
 */
class UnicornCpuTest {

    private static CpuState state(long... gprs) {
        long[] g = new long[16];
        System.arraycopy(gprs, 0, g, 0, gprs.length);
        g[Gen.RSP] = GuestLayout.STACK + 0x8000;
        return new CpuState(g, CODE, 0x202, 0, 0);
    }

    /** Writes {@code code} at RIP and runs it to its end. */
    private static Outcome run(UnicornCpu cpu, byte[] code) {
        long rip = cpu.state().rip();
        MemorySegment.copy(MemorySegment.ofArray(code), 0, cpu.memory(), rip, code.length);
        return cpu.step(new StepHint(new long[] {rip + code.length}, null));
    }

    private static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }

    /** Every register id reaches the register the encoding names: MOV [DATA+8i], r_i stores each. */
    @Test
    void registerIdsMatchTheEncoding() {
        try (UnicornCpu cpu = new UnicornCpu()) {
            long[] g = new long[16];
            for (int i = 0; i < 16; i++) {
                g[i] = 0x1111_1111_1111_1111L * (i + 1) ^ i;
            }
            cpu.reset(new CpuState(g, CODE, 0x202, 0x1234_5000L, 0x6789_0000L));
            assertEquals(new CpuState(g, CODE, 0x202, 0x1234_5000L, 0x6789_0000L), cpu.state());
            for (int i = 0; i < 16; i++) {
                long rip = cpu.state().rip();
                Mem m = new Mem(Asm.NONE, Asm.NONE, 1, 4, DATA + 8 * i, 0, false, false, 0, DATA + 8 * i);
                byte[] code = new Asm(rip).w().op(0x89).modrm(i, m).bytes();
                assertEquals(Outcome.RETIRED, run(cpu, code));
                assertEquals(g[i], cpu.memory().get(JAVA_LONG_UNALIGNED, DATA + 8 * i), Text.reg(8, i));
            }
        }
    }

    @Test
    void addSetsTheFlagsTheManualSays() {
        try (UnicornCpu cpu = new UnicornCpu()) {
            cpu.reset(state(0xffff_ffffL, 0, 0, 1));
            // add eax, ebx: 0xffffffff + 1 = 0 with CF ZF AF PF, upper half zeroed
            assertEquals(Outcome.RETIRED, run(cpu, new Asm(CODE).op(0x01).modrm(Gen.RBX, new Reg(Gen.RAX)).bytes()));
            CpuState s = cpu.state();
            assertEquals(0, s.gpr(Gen.RAX));
            assertEquals(Flags.CF | Flags.ZF | Flags.AF | Flags.PF, s.rflags() & Flags.STATUS);
            assertEquals(CODE + 2, s.rip());
        }
    }

    @Test
    void divideByZeroIsReportedAtTheFaultingInstructionEveryTime() {
        try (UnicornCpu cpu = new UnicornCpu()) {
            for (int round = 0; round < 3; round++) {
                cpu.reset(state(5, 0));
                assertEquals(Outcome.exception(0), run(cpu, bytes(0x48, 0xf7, 0xf1)), "round " + round);
                assertEquals(CODE, cpu.state().rip());
                assertEquals(5, cpu.state().gpr(Gen.RAX));
            }
            // after a #DE, a misaligned CMPXCHG16B is #GP (not a double fault: reset restored the context)
            cpu.reset(state(0, DATA + 8));
            assertEquals(Outcome.exception(13), run(cpu, bytes(0x48, 0x0f, 0xc7, 0x09)));
        }
    }

    @Test
    void aRepStringInstructionRunsToTheEndInOneStep() {
        try (UnicornCpu cpu = new UnicornCpu()) {
            cpu.reset(state(0, 5, 0, 0, 0, 0, DATA, DATA + 0x100));
            cpu.memory().asSlice(DATA, 5).copyFrom(MemorySegment.ofArray(bytes(1, 2, 3, 4, 5)));
            assertEquals(Outcome.RETIRED, run(cpu, bytes(0xf3, 0xa4)));
            assertEquals(0, cpu.state().gpr(Gen.RCX));
            assertEquals(DATA + 0x105, cpu.state().gpr(Gen.RDI));
            assertEquals(5, cpu.memory().get(JAVA_BYTE, DATA + 0x104));
        }
    }

    @Test
    void popcntAndMovbeAreUndefinedInUnicornAndComputedByTheirModels() {
        try (UnicornCpu cpu = new UnicornCpu()) {
            cpu.reset(state(0, 0xf0f0_0000_0000_0107L));
            byte[] popcnt = bytes(0xf3, 0x48, 0x0f, 0xb8, 0xc1); // popcnt rax, rcx
            assertEquals(Outcome.exception(6), run(cpu, popcnt), "Unicorn 2.0.1 has no POPCNT");
            Outcome o = cpu.step(new StepHint(new long[] {CODE + 5}, Forms.popcnt(5, 8, Gen.RAX, new Reg(Gen.RCX))));
            assertEquals(Outcome.RETIRED, o);
            assertEquals(12, cpu.state().gpr(Gen.RAX));
            assertEquals(0, cpu.state().rflags() & Flags.STATUS);

            cpu.reset(state(0, DATA));
            cpu.memory().set(JAVA_LONG_UNALIGNED, DATA, 0x0102_0304_0506_0708L);
            // movbe eax, [rcx]
            Mem m = new Mem(Gen.RCX, Asm.NONE, 1, 0, 0, 0, false, false, 0, DATA);
            byte[] movbe = new Asm(CODE).op(0x0f, 0x38, 0xf0).modrm(Gen.RAX, m).bytes();
            MemorySegment.copy(MemorySegment.ofArray(movbe), 0, cpu.memory(), CODE, movbe.length);
            o = cpu.step(new StepHint(new long[] {CODE + movbe.length},
                    Forms.movbeModel(movbe.length, false, 4, Gen.RAX, DATA)));
            assertEquals(Outcome.RETIRED, o);
            assertEquals(0x0807_0605L, cpu.state().gpr(Gen.RAX));
        }
    }
}
