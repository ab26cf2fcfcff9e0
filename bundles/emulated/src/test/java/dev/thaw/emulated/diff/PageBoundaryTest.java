package dev.thaw.emulated.diff;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.emulated.diff.CpuUnderTest.CpuState;
import dev.thaw.emulated.diff.CpuUnderTest.Outcome;
import dev.thaw.emulated.diff.CpuUnderTest.StepHint;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hand-picked accesses that straddle a 4 KiB page boundary (found by {@link InterpreterMatchesUnicornTest}):
 * split into parts of 3, 5, 6 or 7 bytes, each must touch exactly its own bytes.
 */
class PageBoundaryTest {

    private static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }

    /** Runs {@code code} at CODE on Unicorn and the interpreter from the same state; the differences. */
    private static List<String> compare(long[] gprs, byte[] code, long fillAt, byte[] fill) {
        List<String> diffs = new ArrayList<>();
        try (UnicornCpu oracle = new UnicornCpu(); InterpreterCpu cpu = new InterpreterCpu(3)) {
            CpuState s = new CpuState(gprs, GuestLayout.CODE, 0x202, 0, 0);
            for (CpuUnderTest c : List.of(oracle, cpu)) {
                MemorySegment m = c.memory();
                m.asSlice(GuestLayout.WATCHED, GuestLayout.WATCHED_SIZE).fill((byte) 0x5a);
                m.asSlice(fillAt, fill.length).copyFrom(MemorySegment.ofArray(fill));
                m.asSlice(GuestLayout.CODE, code.length).copyFrom(MemorySegment.ofArray(code));
                c.reset(s);
            }
            StepHint hint = new StepHint(new long[] {GuestLayout.CODE + code.length}, null);
            Outcome eo = oracle.step(hint);
            Outcome ao = cpu.step(hint);
            if (!eo.equals(ao)) {
                diffs.add("outcome " + eo + " vs " + ao);
            }
            CpuState e = oracle.state();
            CpuState a = cpu.state();
            for (int i = 0; i < 16; i++) {
                if (e.gpr(i) != a.gpr(i)) {
                    diffs.add(Text.reg(8, i) + ": expected " + Text.hex(e.gpr(i)) + ", actual " + Text.hex(a.gpr(i)));
                }
            }
            for (long p = GuestLayout.WATCHED; p < GuestLayout.WATCHED + GuestLayout.WATCHED_SIZE; p++) {
                byte x = oracle.memory().get(JAVA_BYTE, p);
                byte y = cpu.memory().get(JAVA_BYTE, p);
                if (x != y) {
                    diffs.add("byte " + Text.hex(p) + ": expected " + Text.hex(x & 0xff) + ", actual " + Text.hex(y & 0xff));
                }
            }
        }
        return diffs;
    }

    @Test
    void aQwordStoreSplitFivePlusThreeWritesEightBytes() {
        // mov [0x113ffb], rcx: bytes 0x113ffb..0x114002; 0x114003.. must keep their 0x5a
        long[] g = new long[16];
        g[Gen.RCX] = 0x1122_3344_5566_7788L;
        g[Gen.RSP] = GuestLayout.STACK + 0x8000;
        assertEquals(List.of(), compare(g, bytes(0x48, 0x89, 0x0c, 0x25, 0xfb, 0x3f, 0x11, 0x00), 0, new byte[0]));
    }

    @Test
    void aPushAcrossAPageBoundaryWritesOnlyItsEightBytes() {
        // push rax with RSP 0x128003: bytes 0x127ffb..0x128002
        long[] g = new long[16];
        g[Gen.RAX] = 0x0102_0304_0506_0708L;
        g[Gen.RSP] = 0x12_8003L;
        assertEquals(List.of(), compare(g, bytes(0x50), 0, new byte[0]));
    }

    @Test
    void aDwordLoadSplitOnePlusThreeReadsFourBytes() {
        // bsr eax, [0x114fff]: the dword is 0x00000001 (one byte on the first page), then 0xff bytes follow
        long[] g = new long[16];
        g[Gen.RSP] = GuestLayout.STACK + 0x8000;
        byte[] fill = bytes(0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff);
        assertEquals(List.of(), compare(g, bytes(0x0f, 0xbd, 0x04, 0x25, 0xff, 0x4f, 0x11, 0x00), 0x11_4fffL, fill));
    }
}
