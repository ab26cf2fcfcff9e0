package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** LOCKed instructions and XCHG are atomic across vCPUs on their own threads sharing memory. */
class AtomicityTest {

    private static final int ROUNDS = 200_000;

    /** Runs {@code code} on two vCPUs at once (each with RCX = ROUNDS, RBX = {@code rbx}) until both halt. */
    private static void runOnTwo(TestCpu t, long rbx, int... code) throws Exception {
        t.put(TestCpu.CODE, code);
        Interpreter second = new Interpreter(t.memory, new GuestHarnessBus(), t.irq, 1);
        second.importState(t.cpu.exportState());
        Interpreter[] cpus = {t.cpu, second};
        Thread[] threads = new Thread[2];
        for (int k = 0; k < 2; k++) {
            Interpreter cpu = cpus[k];
            cpu.c.rip = TestCpu.CODE;
            cpu.c.r[Cpu.RCX] = ROUNDS;
            cpu.c.r[Cpu.RBX] = rbx;
            threads[k] = Thread.ofPlatform().start(() -> {
                StopReason r;
                do {
                    r = cpu.run(10_000);
                } while (r.kind() == StopReason.Kind.BUDGET);
                if (r.kind() != StopReason.Kind.HALTED) {
                    throw new AssertionError(r);
                }
            });
        }
        for (Thread th : threads) {
            th.join();
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0x20000, 0x2000c, 0x20ffc})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void lockIncIsAtomicAlignedOrNot(long address) throws Exception {
        try (TestCpu t = new TestCpu()) {
            // lock inc qword [rbx]; dec rcx; jnz -9; hlt
            runOnTwo(t, address, 0xf0, 0x48, 0xff, 0x03, 0x48, 0xff, 0xc9, 0x75, 0xf7, 0xf4);
            assertEquals(2L * ROUNDS, t.get64(address));
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void xchgSpinLockProtectsAPlainIncrement() throws Exception {
        try (TestCpu t = new TestCpu()) {
            runOnTwo(t, 0x20000,
                    0xb8, 0x01, 0, 0, 0, //       mov eax, 1
                    0x87, 0x03, //                 xchg [rbx], eax
                    0x85, 0xc0, //                 test eax, eax
                    0x75, 0xf5, //                 jnz -11 (to mov eax, 1)
                    0x48, 0xff, 0x43, 0x08, //     inc qword [rbx + 8]
                    0xc7, 0x03, 0, 0, 0, 0, //     mov dword [rbx], 0
                    0x48, 0xff, 0xc9, //           dec rcx
                    0x75, 0xe6, //                 jnz -26 (to the start)
                    0xf4); //                      hlt
            assertEquals(2L * ROUNDS, t.get64(0x20008));
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void lockXaddAndCmpxchgAreAtomic() throws Exception {
        try (TestCpu t = new TestCpu()) {
            // mov eax, 1; lock xadd [rbx], eax; then a cmpxchg loop adding 2 at [rbx + 8]
            runOnTwo(t, 0x20000,
                    0xb8, 0x01, 0, 0, 0, //       mov eax, 1
                    0xf0, 0x0f, 0xc1, 0x03, //     lock xadd [rbx], eax
                    0x8b, 0x43, 0x08, //           mov eax, [rbx + 8]
                    0x8d, 0x50, 0x02, //           lea edx, [rax + 2]
                    0xf0, 0x0f, 0xb1, 0x53, 0x08, // lock cmpxchg [rbx + 8], edx
                    0x75, 0xf6, //                 jnz -10 (to lea)
                    0x48, 0xff, 0xc9, //           dec rcx
                    0x75, 0xe5, //                 jnz -27 (to the start)
                    0xf4); //                      hlt
            assertEquals(2L * ROUNDS, t.get64(0x20000) & 0xffff_ffffL);
            assertEquals(4L * ROUNDS, t.get64(0x20008) & 0xffff_ffffL);
        }
    }

    /** A bus that ignores everything. */
    static final class GuestHarnessBus implements CpuBus {
        @Override
        public long portRead(int port, int size) {
            return 0;
        }

        @Override
        public void portWrite(int port, int size, long value) {
        }

        @Override
        public long mmioRead(long address, int size) {
            return 0;
        }

        @Override
        public void mmioWrite(long address, int size, long value) {
        }
    }
}
