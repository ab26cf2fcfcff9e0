package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Instructions the other tests do not reach: CMPXCHG8B/16B, MOVBE, XLAT, SETcc, LAHF/SAHF, MSRs, SWAPGS. */
class MiscInstructionTest {

    @Test
    void cmpxchg8bAnd16b() {
        try (TestCpu t = new TestCpu()) {
            t.put64(0x20000, 0x1111_2222_3333_4444L);
            t.c.r[Cpu.RDX] = 0x1111_2222L;
            t.c.r[Cpu.RAX] = 0x3333_4444L;
            t.c.r[Cpu.RCX] = 0xaaaa_bbbbL;
            t.c.r[Cpu.RBX] = 0xcccc_ddddL;
            t.c.r[Cpu.RDI] = 0x20000;
            t.exec(1, 0xf0, 0x0f, 0xc7, 0x0f); // lock cmpxchg8b [rdi]
            assertEquals(0xaaaa_bbbb_cccc_ddddL, t.get64(0x20000));
            assertTrue(Flags.zf(t.c));
            t.exec(1, 0x0f, 0xc7, 0x0f); // again: not equal, loads EDX:EAX
            assertTrue(!Flags.zf(t.c));
            assertEquals(0xaaaa_bbbbL, t.c.r[Cpu.RDX]);
            assertEquals(0xcccc_ddddL, t.c.r[Cpu.RAX]);

            t.put64(0x20010, 5);
            t.put64(0x20018, 6);
            t.c.r[Cpu.RAX] = 5;
            t.c.r[Cpu.RDX] = 6;
            t.c.r[Cpu.RBX] = 7;
            t.c.r[Cpu.RCX] = 8;
            t.c.r[Cpu.RDI] = 0x20010;
            t.exec(1, 0xf0, 0x48, 0x0f, 0xc7, 0x0f); // lock cmpxchg16b [rdi]
            assertEquals(7, t.get64(0x20010));
            assertEquals(8, t.get64(0x20018));
            t.c.r[Cpu.RDI] = 0x20008;
            StopReason r = t.exec(1, 0x48, 0x0f, 0xc7, 0x0f); // misaligned: #GP(0)
            assertEquals(13, r.vector());
        }
    }

    @Test
    void movbeXlatSetccLahfSahf() {
        try (TestCpu t = new TestCpu()) {
            t.put64(0x20000, 0x0102_0304_0506_0708L);
            t.c.r[Cpu.RSI] = 0x20000;
            t.exec(1, 0x48, 0x0f, 0x38, 0xf0, 0x06); // movbe rax, [rsi]
            assertEquals(0x0807_0605_0403_0201L, t.c.r[Cpu.RAX]);
            t.exec(1, 0x66, 0x0f, 0x38, 0xf1, 0x06); // movbe [rsi], ax
            assertEquals(0x0102_0304_0506_0102L, t.get64(0x20000));

            t.c.r[Cpu.RBX] = 0x20000;
            t.c.r[Cpu.RAX] = 0x3;
            t.exec(1, 0xd7); // xlat
            assertEquals(0x05, t.c.r[Cpu.RAX]);

            t.c.r[Cpu.RAX] = 1;
            t.exec(2, 0x48, 0x83, 0xf8, 0x02, 0x0f, 0x9c, 0xc1); // cmp rax, 2; setl cl
            assertEquals(1, t.c.r[Cpu.RCX] & 0xff);

            t.c.setRflags(0x2 | 0xd5);
            t.exec(1, 0x9f); // lahf
            assertEquals(0xd7, (t.c.r[Cpu.RAX] >>> 8) & 0xff);
            t.c.r[Cpu.RAX] = 0x4100;
            t.exec(1, 0x9e); // sahf: ZF and CF
            assertEquals(0x43, t.c.rflags() & 0xff);
        }
    }

    @Test
    void msrsAndSwapgs() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RCX] = 0xc000_0100L; // FS_BASE
            t.c.r[Cpu.RDX] = 0x7fff;
            t.c.r[Cpu.RAX] = 0x1234_5000L;
            t.exec(1, 0x0f, 0x30); // wrmsr
            assertEquals(0x7fff_1234_5000L, t.c.segBase[Cpu.FS]);
            t.c.r[Cpu.RCX] = 0xc000_0102L; // KERNEL_GS_BASE
            t.c.r[Cpu.RDX] = 0;
            t.c.r[Cpu.RAX] = 0x9000;
            t.exec(1, 0x0f, 0x30);
            t.exec(1, 0x0f, 0x01, 0xf8); // swapgs
            assertEquals(0x9000, t.c.segBase[Cpu.GS]);
            t.c.r[Cpu.RCX] = 0x1234; // no such MSR
            StopReason r = t.exec(1, 0x0f, 0x32);
            assertEquals(13, r.vector());
            t.c.r[Cpu.RCX] = 0xc000_0080L; // EFER
            t.exec(1, 0x0f, 0x32);
            assertEquals(0xd01, t.c.r[Cpu.RAX]);
            t.c.r[Cpu.RCX] = 0xc000_0100L;
            t.c.r[Cpu.RDX] = 0x8000; // non-canonical base
            r = t.exec(1, 0x0f, 0x30);
            assertEquals(13, r.vector());
            t.c.setCpl(3);
            r = t.exec(1, 0x0f, 0x32);
            assertEquals(13, r.vector(), "RDMSR at CPL 3");
            t.c.setCpl(0);
            t.exec(1, 0x0f, 0x01, 0xf9); // rdtscp
            assertEquals(0, t.c.r[Cpu.RCX]);
        }
    }

    @Test
    void apicBaseMsrIsTheApics() {
        try (TestCpu t = new TestCpu()) {
            t.irq.apicBase = 0xfee0_0900L;
            t.c.r[Cpu.RCX] = 0x1b;
            t.exec(1, 0x0f, 0x32); // rdmsr
            assertEquals(0xfee0_0900L, t.c.r[Cpu.RAX]);
            assertEquals(0, t.c.r[Cpu.RDX]);

            t.c.r[Cpu.RAX] = 0xfed0_0900L;
            t.c.r[Cpu.RDX] = 0x1;
            assertEquals(StopReason.Kind.BUDGET, t.exec(1, 0x0f, 0x30).kind()); // wrmsr: moved above 4 GiB
            assertEquals(0x1_fed0_0900L, t.irq.apicBase);
            assertEquals(0x1_fed0_0900L, t.cpu.exportState().sregs().apicBase(), "exported from the APIC");

            long[][] refused = {
                {0xfee0_0901L, 0}, // reserved bit 0
                {0xfee0_0b00L, 0}, // reserved bit 9
                {0xfee0_0900L, 1L << (t.cpu.cpuid.maxPhysAddr - 32)}, // beyond the physical address width
                {0xfee0_0d00L, 0}, // x2APIC: the APIC refuses it
            };
            for (long[] v : refused) {
                t.c.r[Cpu.RAX] = v[0];
                t.c.r[Cpu.RDX] = v[1];
                StopReason r = t.exec(1, 0x0f, 0x30);
                assertEquals(13, r.vector(), "WRMSR APIC_BASE " + Long.toHexString(v[1] << 32 | v[0]));
                assertEquals(0x1_fed0_0900L, t.irq.apicBase);
            }
        }
    }

    @Test
    void defaultCpuidOffersNeitherX2apicNorTscDeadline() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RAX] = 1;
            t.c.r[Cpu.RCX] = 0;
            t.exec(1, 0x0f, 0xa2); // cpuid
            assertEquals(0, t.c.r[Cpu.RCX] & (1L << 21), "x2APIC");
            assertEquals(0, t.c.r[Cpu.RCX] & (1L << 24), "TSC-deadline");
            assertEquals(1L << 9, t.c.r[Cpu.RDX] & (1L << 9), "an APIC");
            t.c.r[Cpu.RCX] = 0x6e0;
            assertEquals(13, t.exec(1, 0x0f, 0x32).vector(), "no IA32_TSC_DEADLINE");
        }
    }
}
