package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS with and without REP, both directions, and restart after a fault. */
class StringOpsTest {

    @Test
    void repMovsbCopiesForwardAndBackward() {
        try (TestCpu t = new TestCpu()) {
            for (int k = 0; k < 100; k++) {
                t.put(0x20000 + k, k + 1);
            }
            t.c.r[Cpu.RSI] = 0x20000;
            t.c.r[Cpu.RDI] = 0x30000;
            t.c.r[Cpu.RCX] = 100;
            t.exec(1, 0xf3, 0xa4); // rep movsb
            for (int k = 0; k < 100; k++) {
                assertEquals(k + 1, t.mem.get(ValueLayout.JAVA_BYTE, 0x30000 + k));
            }
            assertEquals(0, t.c.r[Cpu.RCX]);
            assertEquals(0x20064, t.c.r[Cpu.RSI]);
            assertEquals(0x30064, t.c.r[Cpu.RDI]);
            assertEquals(TestCpu.CODE + 2, t.c.rip);

            t.c.rflagsOther |= Cpu.DF;
            t.c.r[Cpu.RSI] = 0x20000 + 96;
            t.c.r[Cpu.RDI] = 0x40000 + 96;
            t.c.r[Cpu.RCX] = 25;
            t.exec(1, 0xf3, 0x48, 0xa5); // rep movsq, DF=1
            for (int k = 0; k < 104; k++) {
                int expected = k < 100 ? k + 1 : 0;
                assertEquals(expected, t.mem.get(ValueLayout.JAVA_BYTE, 0x40000 + k), "byte " + k);
            }
            assertEquals(0x20000 - 104, t.c.r[Cpu.RSI]);
        }
    }

    @Test
    void stosAndLodsUseTheOperandSize() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RAX] = 0x1122_3344_5566_7788L;
            t.c.r[Cpu.RDI] = 0x20000;
            t.c.r[Cpu.RCX] = 3;
            t.exec(1, 0xf3, 0x66, 0xab); // rep stosw
            assertEquals(0x7788_7788_7788L, t.get64(0x20000));
            assertEquals(0x20006, t.c.r[Cpu.RDI]);
            t.c.r[Cpu.RSI] = 0x20002;
            t.exec(1, 0xad); // lodsd: zero-extends into RAX
            assertEquals(0x7788_7788L, t.c.r[Cpu.RAX]);
            assertEquals(0x20006, t.c.r[Cpu.RSI]);
        }
    }

    @Test
    void repeCmpsAndRepneScasStopOnTheCondition() {
        try (TestCpu t = new TestCpu()) {
            byte[] a = "hello world".getBytes();
            byte[] b = "hello there".getBytes();
            for (int k = 0; k < a.length; k++) {
                t.put(0x20000 + k, a[k]);
                t.put(0x30000 + k, b[k]);
            }
            t.c.r[Cpu.RSI] = 0x20000;
            t.c.r[Cpu.RDI] = 0x30000;
            t.c.r[Cpu.RCX] = a.length;
            t.exec(1, 0xf3, 0xa6); // repe cmpsb
            assertEquals(0x20007, t.c.r[Cpu.RSI], "stopped after the first difference ('w' vs 't')");
            assertEquals(a.length - 7, t.c.r[Cpu.RCX]);
            assertEquals(false, Flags.zf(t.c));
            assertEquals(false, Flags.cond(t.c, 2), "'w' > 't': no borrow");

            t.c.r[Cpu.RAX] = 'o';
            t.c.r[Cpu.RDI] = 0x20000;
            t.c.r[Cpu.RCX] = a.length;
            t.exec(1, 0xf2, 0xae); // repne scasb
            assertEquals(0x20005, t.c.r[Cpu.RDI], "one past the first 'o'");
            assertEquals(a.length - 5, t.c.r[Cpu.RCX]);
            assertEquals(true, Flags.zf(t.c));

            t.c.r[Cpu.RCX] = 0;
            t.c.r[Cpu.RDI] = 0x20000;
            t.exec(1, 0xf2, 0xae);
            assertEquals(0x20000, t.c.r[Cpu.RDI], "RCX = 0: nothing happens");
        }
    }

    @Test
    void addressSizePrefixUsesEcxEsiEdi() {
        try (TestCpu t = new TestCpu()) {
            t.put(0x20000, 0x5a);
            t.c.r[Cpu.RSI] = 0xffff_ffff_0002_0000L; // upper half ignored with 67
            t.c.r[Cpu.RDI] = 0xffff_ffff_0003_0000L;
            t.c.r[Cpu.RCX] = 0xffff_ffff_0000_0001L;
            t.exec(1, 0x67, 0xf3, 0xa4); // rep movsb with 32-bit addresses
            assertEquals(0x5a, t.mem.get(ValueLayout.JAVA_BYTE, 0x30000));
            assertEquals(0x20001, t.c.r[Cpu.RSI], "32-bit writes zero-extend");
            assertEquals(0, t.c.r[Cpu.RCX]);
        }
    }

    @Test
    void faultInTheMiddleLeavesRegistersToRestart() {
        try (TestCpu t = new TestCpu()) {
            // 4 MiB of RAM, identity map of the first GiB: 0x3ffffff8.. is MMIO (reads 0), 0x40000000 is unmapped
            t.c.r[Cpu.RSI] = 0x3fff_fff8L;
            t.c.r[Cpu.RDI] = 0x30000;
            t.c.r[Cpu.RCX] = 16;
            StopReason r = t.exec(1, 0xf3, 0xa4);
            assertEquals(StopReason.Kind.EXCEPTION, r.kind());
            assertEquals(14, r.vector());
            assertEquals(0x4000_0000L, t.c.cr2);
            assertEquals(8, t.c.r[Cpu.RCX], "8 bytes moved, 8 to go");
            assertEquals(0x4000_0000L, t.c.r[Cpu.RSI]);
            assertEquals(0x30008, t.c.r[Cpu.RDI]);
            assertEquals(TestCpu.CODE, t.c.rip, "RIP on the REP MOVSB to restart it");
        }
    }

    @Test
    void bulkStoresAndCopiesMatchTheElementSemantics() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RAX] = 0xab;
            t.c.r[Cpu.RDI] = 0x20ffd; // unaligned, three pages
            t.c.r[Cpu.RCX] = 8200;
            t.exec(1000, 0xf3, 0xaa, 0xf4); // rep stosb
            assertEquals(0, t.c.r[Cpu.RCX]);
            assertEquals(0x20ffd + 8200, t.c.r[Cpu.RDI]);
            assertEquals(0, t.mem.get(ValueLayout.JAVA_BYTE, 0x20ffc));
            for (long a = 0x20ffd; a < 0x20ffd + 8200; a++) {
                assertEquals((byte) 0xab, t.mem.get(ValueLayout.JAVA_BYTE, a), "byte at 0x" + Long.toHexString(a));
            }
            assertEquals(0, t.mem.get(ValueLayout.JAVA_BYTE, 0x20ffd + 8200));

            t.c.r[Cpu.RAX] = 0x0102_0304_0506_0708L;
            t.c.r[Cpu.RDI] = 0x30000;
            t.c.r[Cpu.RCX] = 1500;
            t.exec(1000, 0xf3, 0x48, 0xab, 0xf4); // rep stosq
            for (long a = 0x30000; a < 0x30000 + 12000; a += 8) {
                assertEquals(0x0102_0304_0506_0708L, t.get64(a));
            }

            t.c.r[Cpu.RSI] = 0x30000;
            t.c.r[Cpu.RDI] = 0x50003;
            t.c.r[Cpu.RCX] = 12000;
            t.exec(1000, 0xf3, 0xa4, 0xf4); // rep movsb, pages of source and destination not aligned to each other
            for (int k = 0; k < 12000; k++) {
                assertEquals(t.mem.get(ValueLayout.JAVA_BYTE, 0x30000 + k), t.mem.get(ValueLayout.JAVA_BYTE, 0x50003 + k));
            }

            t.put(0x60000, 0x5a);
            t.c.r[Cpu.RSI] = 0x60000;
            t.c.r[Cpu.RDI] = 0x60001;
            t.c.r[Cpu.RCX] = 5000;
            t.exec(1000, 0xf3, 0xa4, 0xf4); // overlapping forward copy: replicates the first byte
            for (int k = 0; k <= 5000; k++) {
                assertEquals(0x5a, t.mem.get(ValueLayout.JAVA_BYTE, 0x60000 + k), "byte " + k);
            }
        }
    }

    @Test
    void bulkStoreFaultsOnTheFirstMissingPageWithRegistersConsistent() {
        try (TestCpu t = new TestCpu()) {
            long pd = 0x100000;
            t.put64(0x2000, pd | 7); // PDPT[0] -> a page directory of 2 MiB pages: 0..4 MiB, then nothing
            t.put64(pd, 0x87);
            t.put64(pd + 8, 0x200000 | 0x87);
            t.put64(pd + 16, 0);
            t.c.mmu.flushAll();
            t.c.r[Cpu.RAX] = -1;
            t.c.r[Cpu.RDI] = 0x3ff000;
            t.c.r[Cpu.RCX] = 1024;
            StopReason r = t.exec(1, 0xf3, 0x48, 0xab); // rep stosq over 8 KiB: the second 4 KiB are unmapped
            assertEquals(14, r.vector());
            assertEquals(0x400000, t.c.cr2);
            assertEquals(512, t.c.r[Cpu.RCX]);
            assertEquals(0x400000, t.c.r[Cpu.RDI]);
            assertEquals(-1, t.get64(0x3ffff8));
            assertEquals(TestCpu.CODE, t.c.rip);
        }
    }

    @Test
    void insAndOutsGoThroughTheBus() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RDX] = 0x3f8;
            t.c.r[Cpu.RSI] = 0x20000;
            t.put(0x20000, 'h', 'i');
            t.c.r[Cpu.RCX] = 2;
            t.exec(1, 0xf3, 0x6e); // rep outsb
            t.c.r[Cpu.RDI] = 0x30000;
            t.exec(1, 0x6d); // insd
            assertEquals("out 3f8/1=68\nout 3f8/1=69\nin 3f8/4\n", t.ports.toString());
            assertEquals(0x1234_5678, t.mem.get(ValueLayout.JAVA_INT_UNALIGNED, 0x30000));
        }
    }
}
