package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Blocks of straight-line code: what the run loop must still see between their instructions. */
class BlockCacheTest {

    private static final int HLT = 0xf4;

    @Test
    void anInstructionThatRewritesTheNextOneInItsBlockRunsTheNewBytes() {
        try (TestCpu t = new TestCpu()) {
            StopReason r = t.exec(10,
                    0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x07, // mov byte [rip + 1], 7: the next immediate
                    0xb8, 0x05, 0x00, 0x00, 0x00, //             mov eax, 5 (becomes mov eax, 7)
                    HLT);
            assertEquals(StopReason.Kind.HALTED, r.kind());
            assertEquals(7, t.c.r[Cpu.RAX]);
        }
    }

    @Test
    void aWriteThroughAnotherMappingOfTheCodePageIsSeenToo() {
        try (TestCpu t = new TestCpu()) {
            t.put64(0x2000 + 8, 0x87); // the second GiB of linear addresses maps physical 0 again
            t.c.mmu.flushAll();
            long alias = (1L << 30) + TestCpu.CODE + 14;
            int[] code = {
                0x48, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, // mov rbx, alias of the immediate below
                0xc6, 0x03, 0x07, //                  mov byte [rbx], 7
                0xb8, 0x05, 0x00, 0x00, 0x00, //      mov eax, 5 (its immediate at CODE + 14)
                HLT};
            for (int k = 0; k < 8; k++) {
                code[2 + k] = (int) (alias >>> (8 * k)) & 0xff;
            }
            t.exec(10, code);
            assertEquals(7, t.c.r[Cpu.RAX]);
        }
    }

    @Test
    void aBudgetEndsARunInsideABlockAndTheNextRunGoesOnFromThere() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RAX] = 0;
            long before = t.cpu.instructions();
            StopReason r = t.exec(3, 0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, HLT); // inc eax, 5 times
            assertEquals(StopReason.Kind.BUDGET, r.kind());
            assertEquals(3, t.c.r[Cpu.RAX]);
            assertEquals(TestCpu.CODE + 6, t.c.rip);
            assertEquals(3, t.cpu.instructions() - before);
            assertEquals(StopReason.Kind.BUDGET, t.cpu.run(2).kind());
            assertEquals(5, t.c.r[Cpu.RAX]);
            assertEquals(StopReason.Kind.HALTED, t.cpu.run(10).kind());
        }
    }

    @Test
    void aFaultInsideABlockStopsOnTheFaultingInstructionWithTheEarlierOnesDone() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RBX] = 0x8000_0000_0000_0000L; // not canonical
            long before = t.cpu.instructions();
            StopReason r = t.exec(10,
                    0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1
                    0x48, 0x8b, 0x03, //             mov rax, [rbx]: #GP
                    0xb8, 0x02, 0x00, 0x00, 0x00, // mov eax, 2
                    HLT);
            assertEquals(StopReason.Kind.EXCEPTION, r.kind());
            assertEquals(13, r.vector());
            assertEquals(TestCpu.CODE + 5, t.c.rip);
            assertEquals(1, t.c.r[Cpu.RAX]);
            assertEquals(2, t.cpu.instructions() - before);
        }
    }
}
