package dev.thaw.emulated.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.bench.LoopRequest;
import dev.thaw.api.bench.LoopRun;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The interpreter as a code loop runner: CPL 3, its registers in and out, every executed instruction counted once. */
class InterpreterLoopRunnerTest {

    static final long CODE = LoopRequest.SYSTEM_BYTES;
    static final int RCX = 1, RSP = 4, RSI = 6, RDI = 7;

    Mapping ram;
    final InterpreterLoopRunner runner = new InterpreterLoopRunner();

    @BeforeEach
    void map() {
        ram = Mapping.anonymous(1 << 20, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE);
    }

    @AfterEach
    void unmap() {
        ram.close();
    }

    private static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }

    @Test
    void aCountedLoopRunsToItsEndAndEveryInstructionIsCountedOnce() {
        long[] regs = new long[16];
        regs[RCX] = 5;
        regs[RSP] = 0x80000;
        // dec rcx; jnz -5
        LoopRun run = runner.run(new LoopRequest(ram.segment(), CODE, bytes(0x48, 0xff, 0xc9, 0x75, 0xfb), regs));
        assertEquals(10, run.instructions());
        assertEquals(0, run.registers()[RCX]);
        assertEquals(0x80000, run.registers()[RSP]);
        assertTrue(run.nanos() > 0);
    }

    @Test
    void theCodeRunsAtCpl3AndStoresIntoTheMemory() {
        long[] regs = new long[16];
        regs[RSI] = 0x1234_5678_9abc_def0L;
        regs[RDI] = 0x20000;
        // mov [rdi], rsi; mov rcx, cs
        LoopRun run = runner.run(new LoopRequest(ram.segment(), CODE, bytes(0x48, 0x89, 0x37, 0x48, 0x8c, 0xc9), regs));
        assertEquals(0x1234_5678_9abc_def0L, ram.segment().get(ValueLayout.JAVA_LONG, 0x20000));
        assertEquals(3, run.registers()[RCX] & 3, "CS.RPL: CPL 3");
        assertEquals(2, run.instructions());
    }

    @Test
    void codeThatDoesNotReachItsEndFailsSayingWhere() {
        // cli: #GP at CPL 3 with IOPL 0
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> runner.run(new LoopRequest(ram.segment(), CODE, bytes(0x90, 0xfa, 0x90), new long[16])));
        assertTrue(e.getMessage().contains("rip 0x10001"), e.getMessage());
    }
}
