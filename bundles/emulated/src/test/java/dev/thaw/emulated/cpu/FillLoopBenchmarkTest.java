package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Instructions per second on the test guest's fill loop (the machine code of fill_page's inner loop, 18
 * instructions per 8-byte word), on this interpreter and on Unicorn side by side in one run. Opt-in:
 * {@code -Dthaw.bench=true}; skipped when libunicorn.so.2 is missing.
 */
class FillLoopBenchmarkTest {

    /** fill_page's inner loop from the guest (user.c), then HLT. */
    static final int[] LOOP = {
        0x4c, 0x89, 0xd2, 0x48, 0x31, 0xca, 0x4c, 0x01, 0xe2, 0x49, 0x89, 0xd5, 0x49, 0xc1, 0xed, 0x1e,
        0x49, 0x31, 0xd5, 0x4d, 0x0f, 0xaf, 0xe9, 0x4c, 0x89, 0xea, 0x48, 0xc1, 0xea, 0x1b, 0x4c, 0x31,
        0xea, 0x49, 0x0f, 0xaf, 0xd0, 0x49, 0x89, 0xd5, 0x49, 0xc1, 0xed, 0x1f, 0x4c, 0x31, 0xea, 0x48,
        0x89, 0x14, 0x0e, 0x48, 0x83, 0xc1, 0x08, 0x48, 0x39, 0xcd, 0x75, 0xc4, 0xf4};
    static final int INSNS_PER_WORD = 18;
    static final long DATA = 0x400000, BYTES = 16 << 20;
    static final long GOLDEN = 0x9e3779b97f4a7c15L, M1 = 0xbf58476d1ce4e5b9L, M2 = 0x94d049bb133111ebL;

    @Test
    void interpreterVersusUnicorn() throws Throwable {
        Assumptions.assumeTrue(Boolean.getBoolean("thaw.bench"), "opt-in: -Dthaw.bench=true");
        double ours = 0;
        long check = 0;
        try (TestCpu t = new TestCpu(DATA + BYTES, true)) {
            t.put(TestCpu.CODE, LOOP);
            t.c.setCpl(3);
            for (int round = 0; round < 5; round++) {
                setRegs(t.c);
                long before = t.cpu.instructions();
                long t0 = System.nanoTime();
                StopReason r = t.cpu.run(Long.MAX_VALUE);
                long ns = System.nanoTime() - t0;
                assertEquals(13, r.vector(), "ends at the HLT (CPL 3: #GP)");
                ours = (t.cpu.instructions() - before) / (ns / 1e9);
                System.out.printf("interpreter round %d: %.1f M instructions/s%n", round, ours / 1e6);
            }
            check = t.get64(DATA + BYTES - 8);
        }
        Optional<Double> uc = unicorn(check);
        if (uc.isPresent()) {
            System.out.printf("unicorn: %.1f M instructions/s; interpreter/unicorn = %.3f%n", uc.get() / 1e6,
                    ours / uc.get());
        }
    }

    private static void setRegs(Cpu c) {
        c.rip = TestCpu.CODE;
        c.r[Cpu.RCX] = DATA;
        c.r[Cpu.RBP] = DATA + BYTES;
        c.r[Cpu.RSI] = 0;
        c.r[10] = 1;
        c.r[12] = GOLDEN;
        c.r[9] = M1;
        c.r[8] = M2;
    }

    private static Optional<Double> unicorn(long expectLast) throws Throwable {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup("libunicorn.so.2", Arena.global());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        Linker l = Linker.nativeLinker();
        ValueLayout.OfLong j = ValueLayout.JAVA_LONG;
        ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        java.lang.foreign.AddressLayout a = ValueLayout.ADDRESS;
        MethodHandle open = l.downcallHandle(lib.find("uc_open").orElseThrow(), FunctionDescriptor.of(i, i, i, a));
        MethodHandle map = l.downcallHandle(lib.find("uc_mem_map").orElseThrow(), FunctionDescriptor.of(i, a, j, j, i));
        MethodHandle write = l.downcallHandle(lib.find("uc_mem_write").orElseThrow(),
                FunctionDescriptor.of(i, a, j, a, j));
        MethodHandle read = l.downcallHandle(lib.find("uc_mem_read").orElseThrow(),
                FunctionDescriptor.of(i, a, j, a, j));
        MethodHandle reg = l.downcallHandle(lib.find("uc_reg_write").orElseThrow(), FunctionDescriptor.of(i, a, i, a));
        MethodHandle start = l.downcallHandle(lib.find("uc_emu_start").orElseThrow(),
                FunctionDescriptor.of(i, a, j, j, j, j));
        MethodHandle close = l.downcallHandle(lib.find("uc_close").orElseThrow(), FunctionDescriptor.of(i, a));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ucp = arena.allocate(a);
            check((int) open.invokeExact(4, 8, ucp));
            MemorySegment uc = ucp.get(a, 0);
            check((int) map.invokeExact(uc, 0x10000L, 0x10000L, 7));
            check((int) map.invokeExact(uc, DATA, BYTES, 7));
            MemorySegment code = arena.allocate(LOOP.length);
            for (int k = 0; k < LOOP.length; k++) {
                code.set(ValueLayout.JAVA_BYTE, k, (byte) LOOP[k]);
            }
            check((int) write.invokeExact(uc, 0x10000L, code, (long) LOOP.length));
            MemorySegment v = arena.allocate(j);
            double best = 0;
            for (int round = 0; round < 5; round++) {
                long[][] regs = {{38, DATA}, {36, DATA + BYTES}, {43, 0}, {108, 1}, {110, GOLDEN}, {107, M1}, {106, M2}};
                for (long[] rv : regs) {
                    v.set(j, 0, rv[1]);
                    check((int) reg.invokeExact(uc, (int) rv[0], v));
                }
                long t0 = System.nanoTime();
                check((int) start.invokeExact(uc, 0x10000L, 0x10000L + LOOP.length - 1, 0L, 0L));
                long ns = System.nanoTime() - t0;
                double rate = BYTES / 8 * INSNS_PER_WORD / (ns / 1e9);
                best = Math.max(best, rate);
                System.out.printf("unicorn round %d: %.1f M instructions/s%n", round, rate / 1e6);
            }
            check((int) read.invokeExact(uc, DATA + BYTES - 8, v, 8L));
            assertEquals(expectLast, v.get(j, 0), "both computed the same pattern");
            check((int) close.invokeExact(uc));
            return Optional.of(best);
        }
    }

    private static void check(int err) {
        if (err != 0) {
            throw new IllegalStateException("unicorn error " + err);
        }
    }
}
