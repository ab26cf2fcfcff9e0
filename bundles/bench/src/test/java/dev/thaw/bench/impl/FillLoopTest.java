package dev.thaw.bench.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.bench.LoopRequest;
import dev.thaw.api.bench.LoopRun;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The fill loop is the shipped guest's, computes the guest's pattern, and runs on Unicorn at CPL 3. */
class FillLoopTest {

    @Test
    void theShippedImageHoldsTheLoopOnce() {
        byte[] image = FillLoop.shippedImage();
        long at = FillLoop.find(image);
        assertTrue(at > FillLoop.IMAGE_ADDRESS && at < FillLoop.IMAGE_ADDRESS + image.length, Long.toHexString(at));
        byte[] rest = Arrays.copyOfRange(image, (int) (at - FillLoop.IMAGE_ADDRESS) + 1, image.length);
        assertThrows(IllegalStateException.class, () -> FillLoop.find(rest), "found once");
    }

    @Test
    void anImageWithoutTheLoopFailsSayingWhatToUpdate() {
        byte[] image = FillLoop.shippedImage();
        int at = (int) (FillLoop.find(image) - FillLoop.IMAGE_ADDRESS);
        image[at + 20] ^= 1;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FillLoop.find(image));
        assertTrue(e.getMessage().contains("no longer contains the fill loop") && e.getMessage().contains("FillLoop.CODE"),
                e.getMessage());
    }

    /**
     * The pattern, hashed per page as guest/README.md says, gives the guest's known answer for fill on 64 MiB
     * with seed 1: the loop's words are the guest's.
     */
    @Test
    void thePatternGivesTheGuestsKnownFillResult() {
        long sum = 0;
        for (long page = 4L << 20; page < 64L << 20; page += 4096) {
            long h = 0;
            for (int j = 0; j < 512; j++) {
                h += FillLoop.pattern(1, page + 8L * j) * (2L * j + 1);
            }
            sum += mix64(page + h);
        }
        assertEquals("a984f427d1253169", HexFormat.of().toHexDigits(sum));
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * FillLoop.M1;
        z = (z ^ (z >>> 27)) * FillLoop.M2;
        return z ^ (z >>> 31);
    }

    @Test
    void unicornRunsTheLoopAtCpl3OverTheMemoryAndWritesThePattern() {
        long size = 6L << 20;
        UnicornLoopRunner unicorn = new UnicornLoopRunner();
        try (Mapping ram = Mapping.anonymous(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE)) {
            LoopRun run = unicorn.run(new LoopRequest(ram.segment(), CpuBench.CODE_ADDRESS, FillLoop.CODE,
                    FillLoop.registers(7, CpuBench.DATA, size, CpuBench.STACK)));
            assertEquals(size, run.registers()[FillLoop.RCX]);
            assertEquals(CpuBench.STACK, run.registers()[4]);
            assertEquals(-1, run.instructions(), "Unicorn counts none");
            FillLoop.verify(ram.segment(), CpuBench.DATA, size, 7, "unicorn");
            ram.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG, size - 8, 0);
            assertThrows(IllegalStateException.class, () -> FillLoop.verify(ram.segment(), CpuBench.DATA, size, 7, "unicorn"));
        }
    }

    @Test
    void codeThatDoesNotReachItsEndOnUnicornFailsSayingWhere() {
        UnicornLoopRunner unicorn = new UnicornLoopRunner();
        try (Mapping ram = Mapping.anonymous(1 << 20, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE)) {
            // hlt: #GP at CPL 3, which Unicorn hands to no hook and stops on
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> unicorn.run(
                    new LoopRequest(ram.segment(), CpuBench.CODE_ADDRESS, new byte[] {(byte) 0x90, (byte) 0xf4, (byte) 0x90}, new long[16])));
            assertTrue(e.getMessage().contains("not at the code's end 0x10003"), e.getMessage());
        }
    }
}
