package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Decoding and operand access: prefixes, REX, byte registers, ModRM/SIB/displacement forms, RIP-relative
 * and 32-bit addressing in 64-bit mode, moffs, immediates, 16- and 32-bit code, zero- and sign-extension
 * rules, the #UD and #GP cases, and the unimplemented-opcode counter.
 */
class DecoderTest {

    @Test
    void addressingForms() {
        try (TestCpu t = new TestCpu()) {
            t.put64(TestCpu.CODE + 7 + 0x10, 0x1234);
            t.exec(1, 0x48, 0x8b, 0x05, 0x10, 0, 0, 0); // mov rax, [rip + 0x10]
            assertEquals(0x1234, t.c.r[Cpu.RAX]);

            t.put64(0x1000 + 8 * 3 + 0x20000, 0x55);
            t.c.r[Cpu.RCX] = 3;
            t.exec(1, 0x48, 0x8b, 0x04, 0xcd, 0, 0x10, 0x02, 0); // mov rax, [rcx*8 + 0x21000]
            assertEquals(0x55, t.c.r[Cpu.RAX]);

            t.put64(0x20010 + 0x40, 0x77);
            t.c.r[13] = 0x20010;
            t.c.r[14] = 0x20;
            t.exec(1, 0x4b, 0x8b, 0x44, 0x75, 0x00); // mov rax, [r13 + r14*2 + 0]
            assertEquals(0x77, t.c.r[Cpu.RAX]);

            t.put64(0x20000, 0x99);
            t.c.r[Cpu.RBX] = 0xffff_ffff_0002_0000L;
            t.exec(1, 0x67, 0x48, 0x8b, 0x03); // mov rax, [ebx]: 32-bit address size
            assertEquals(0x99, t.c.r[Cpu.RAX]);

            t.put(0x20000, 0xab);
            t.exec(1, 0xa0, 0, 0, 0x02, 0, 0, 0, 0, 0); // mov al, [moffs64 0x20000]
            assertEquals(0xab, t.c.r[Cpu.RAX] & 0xff);
        }
    }

    @Test
    void byteRegistersAndExtension() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RAX] = -1;
            t.c.r[Cpu.RSI] = -1;
            t.exec(1, 0xb4, 0x12); // mov ah, 0x12
            assertEquals(0xffff_ffff_ffff_12ffL, t.c.r[Cpu.RAX]);
            t.exec(1, 0x40, 0xb6, 0x34); // mov sil, 0x34 (REX)
            assertEquals(0xffff_ffff_ffff_ff34L, t.c.r[Cpu.RSI]);
            t.exec(1, 0xb8, 0x78, 0x56, 0x34, 0x12); // mov eax, imm32: zero-extends
            assertEquals(0x1234_5678L, t.c.r[Cpu.RAX]);
            t.exec(1, 0x66, 0x48, 0xc7, 0xc0, 0xfe, 0xff, 0xff, 0xff); // REX.W wins over 66: mov rax, -2
            assertEquals(-2, t.c.r[Cpu.RAX]);
            t.exec(1, 0x66, 0xb8, 0x11, 0x22); // mov ax, 0x2211: merges
            assertEquals(0xffff_ffff_ffff_2211L, t.c.r[Cpu.RAX]);
            t.c.r[Cpu.RBX] = 0x80;
            t.exec(1, 0x48, 0x0f, 0xbe, 0xc3); // movsx rax, bl
            assertEquals(-128, t.c.r[Cpu.RAX]);
            t.exec(1, 0x0f, 0xb6, 0xc3); // movzx eax, bl
            assertEquals(0x80, t.c.r[Cpu.RAX]);
            t.c.r[Cpu.RBX] = 0x8000_0000L;
            t.exec(1, 0x48, 0x63, 0xc3); // movsxd rax, ebx
            assertEquals(0xffff_ffff_8000_0000L, t.c.r[Cpu.RAX]);
            t.c.r[Cpu.RAX] = -1;
            t.c.setRflags(2); // ZF = 0
            t.exec(1, 0x0f, 0x44, 0xc3); // cmove eax, ebx: not taken, still zero-extends
            assertEquals(0xffff_ffffL, t.c.r[Cpu.RAX]);
            t.c.r[Cpu.RAX] = 0x8000;
            t.exec(1, 0x48, 0x98); // cdqe
            assertEquals(0x8000, t.c.r[Cpu.RAX]);
            t.exec(1, 0x66, 0x98); // cbw: al 0x00 -> ax 0
            t.c.r[Cpu.RAX] = 0x80;
            t.exec(1, 0x66, 0x98);
            assertEquals(0xff80, t.c.r[Cpu.RAX]);
        }
    }

    @Test
    void leaTruncatesToTheOperandSize() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RBX] = 0xffff_ffff_ffff_fff0L;
            t.exec(1, 0x8d, 0x43, 0x20); // lea eax, [rbx + 0x20]
            assertEquals(0x10, t.c.r[Cpu.RAX]);
            t.exec(1, 0x66, 0x8d, 0x43, 0x20); // lea ax, [rbx + 0x20]
            assertEquals(0x10, t.c.r[Cpu.RAX]);
        }
    }

    @Test
    void stackAndControlTransfers() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RSP] = 0x8000;
            t.c.r[Cpu.RAX] = 0x1122;
            t.exec(1, 0x66, 0x50); // push ax
            assertEquals(0x7ffe, t.c.r[Cpu.RSP]);
            t.exec(1, 0x6a, 0xff); // push -1 (64-bit)
            assertEquals(0x7ff6, t.c.r[Cpu.RSP]);
            assertEquals(-1, t.get64(0x7ff6));
            t.exec(1, 0x41, 0x5f); // pop r15
            assertEquals(-1, t.c.r[15]);
            // call rel32; the callee at CODE+5+0x10 is ret 8
            t.c.r[Cpu.RSP] = 0x8000;
            t.put(TestCpu.CODE + 0x15, 0xc2, 0x08, 0x00);
            t.exec(2, 0xe8, 0x10, 0, 0, 0);
            assertEquals(TestCpu.CODE + 5, t.c.rip);
            assertEquals(0x8008, t.c.r[Cpu.RSP]);
            // loop and jrcxz
            t.c.r[Cpu.RCX] = 3;
            t.c.r[Cpu.RAX] = 0;
            t.exec(7, 0x48, 0xff, 0xc0, 0xe2, 0xfb, 0xe3, 0x00); // inc rax; loop -5; jrcxz +0
            assertEquals(3, t.c.r[Cpu.RAX]);
            assertEquals(0, t.c.r[Cpu.RCX]);
            // enter / leave
            t.c.r[Cpu.RSP] = 0x8000;
            t.c.r[Cpu.RBP] = 0x1234;
            t.exec(1, 0xc8, 0x20, 0x00, 0x00); // enter 0x20, 0
            assertEquals(0x7ff8, t.c.r[Cpu.RBP]);
            assertEquals(0x7ff8 - 0x20, t.c.r[Cpu.RSP]);
            t.exec(1, 0xc9); // leave
            assertEquals(0x8000, t.c.r[Cpu.RSP]);
            assertEquals(0x1234, t.c.r[Cpu.RBP]);
        }
    }

    @Test
    void pushfPopfRespectPrivilege() {
        try (TestCpu t = new TestCpu()) {
            t.c.setRflags(0x202);
            t.c.setCpl(3);
            t.c.r[Cpu.RSP] = 0x8000;
            t.put64(0x7ff8, 0x3000 | 0x100 | 0xcd5); // IOPL 3, TF, arithmetic flags; IF clear
            t.c.r[Cpu.RSP] = 0x7ff8;
            t.exec(1, 0x9d); // popf at CPL 3, IOPL 0: IF and IOPL unchanged
            assertEquals(0x202 | 0x100 | 0xcd5, t.c.rflags());
        }
    }

    @Test
    void invalidEncodingsRaiseUd() {
        try (TestCpu t = new TestCpu()) {
            StopReason r = t.exec(1, 0xf0, 0x48, 0x01, 0xd8); // lock add rax, rbx: register destination
            assertEquals(6, r.vector());
            r = t.exec(1, 0xf0, 0x90); // lock nop
            assertEquals(6, r.vector());
            r = t.exec(1, 0x0f, 0x0b); // ud2: architectural, not counted
            assertEquals(6, r.vector());
            r = t.exec(1, 0x06); // push es: invalid in 64-bit mode
            assertEquals(6, r.vector());
            assertEquals(0, t.cpu.unimplementedCount());
            r = t.exec(1, 0xd9, 0xe8); // fld1: x87 is not implemented
            assertEquals(6, r.vector());
            r = t.exec(1, 0x66, 0x0f, 0xef, 0xc0); // pxor xmm0, xmm0: SSE is not implemented
            assertEquals(6, r.vector());
            assertEquals(2, t.cpu.unimplementedCount());
            assertEquals("66 0f ef c0 at rip 0x10000", t.cpu.lastUnimplemented());
            r = t.exec(1, 0xc5, 0xf9, 0xef, 0xc0); // vpxor xmm0, xmm0, xmm0: VEX
            assertEquals(6, r.vector());
            assertEquals(3, t.cpu.unimplementedCount());
            r = t.exec(1, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                    0x66, 0x90); // 16 bytes
            assertEquals(13, r.vector());
            assertEquals(TestCpu.CODE, t.c.rip);
        }
    }

    @Test
    void divideErrorsAreFaults() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RAX] = 10;
            t.c.r[Cpu.RDX] = 0;
            t.c.r[Cpu.RBX] = 0;
            StopReason r = t.exec(1, 0x48, 0xf7, 0xf3); // div rbx by 0
            assertEquals(StopReason.Kind.EXCEPTION, r.kind());
            assertEquals(0, r.vector());
            assertEquals(TestCpu.CODE, t.c.rip);
            t.c.r[Cpu.RBX] = 1;
            t.c.r[Cpu.RDX] = 1;
            r = t.exec(1, 0x48, 0xf7, 0xf3); // quotient 2^64 + 10 does not fit
            assertEquals(0, r.vector());
            t.c.r[Cpu.RDX] = 1;
            t.c.r[Cpu.RAX] = 0;
            t.c.r[Cpu.RBX] = 3;
            r = t.exec(1, 0x48, 0xf7, 0xf3); // 2^64 / 3
            assertEquals(StopReason.Kind.BUDGET, r.kind());
            assertEquals(Long.divideUnsigned(-1L, 3) + (Long.remainderUnsigned(-1L, 3) == 2 ? 1 : 0), t.c.r[Cpu.RAX]);
            assertEquals(1, t.c.r[Cpu.RDX]);
            t.c.r[Cpu.RAX] = Long.MIN_VALUE;
            t.c.r[Cpu.RDX] = -1;
            t.c.r[Cpu.RBX] = -1;
            r = t.exec(1, 0x48, 0xf7, 0xfb); // idiv: MIN / -1 overflows
            assertEquals(0, r.vector());
            t.c.r[Cpu.RAX] = -7;
            t.c.r[Cpu.RDX] = -1;
            t.c.r[Cpu.RBX] = 2;
            t.exec(1, 0x48, 0xf7, 0xfb); // -7 / 2 = -3 rem -1
            assertEquals(-3, t.c.r[Cpu.RAX]);
            assertEquals(-1, t.c.r[Cpu.RDX]);
        }
    }

    @Test
    void sixteenAndThirtyTwoBitCode() {
        try (TestCpu t = new TestCpu()) {
            Cpu c = t.c;
            c.efer = 0;
            c.cr0 = Cpu.CR0_PE | Cpu.CR0_ET;
            c.cr4 = 0;
            for (int s = 0; s < 6; s++) {
                c.segBase[s] = 0;
                c.segLimit[s] = 0xffff_ffffL;
                c.segAttr[s] = (s == Cpu.CS ? 0xb : 3) | Cpu.A_S | Cpu.A_P | Cpu.A_DB | Cpu.A_G;
            }
            c.updateMode();
            c.mmu.flushAll();
            t.put(0x5004, 0x11, 0x22, 0x33, 0x44);
            c.r[Cpu.RBX] = 0x5000;
            c.r[Cpu.RSI] = 0x4;
            t.exec(1, 0x67, 0x8b, 0x00); // mov eax, [bx + si]
            assertEquals(0x4433_2211L, c.r[Cpu.RAX]);
            t.exec(1, 0x40); // inc eax (not REX outside 64-bit mode)
            assertEquals(0x4433_2212L, c.r[Cpu.RAX]);
            c.r[Cpu.RSP] = 0x9000;
            t.exec(1, 0x60); // pushad
            assertEquals(0x9000 - 32, c.r[Cpu.RSP]);
            c.r[Cpu.RAX] = 0;
            t.exec(1, 0x61); // popad
            assertEquals(0x4433_2212L, c.r[Cpu.RAX]);
            // 16-bit code segment: operand and address size 16
            c.segAttr[Cpu.CS] &= ~Cpu.A_DB;
            c.segBase[Cpu.CS] = TestCpu.CODE; // IP is 16 bits: code at CS base + IP
            c.updateMode();
            c.r[Cpu.RAX] = 0xffff_ffffL;
            t.put(TestCpu.CODE, 0xb8, 0x34, 0x12, 0x04, 0x99, 0x27); // mov ax, 0x1234; add al, 0x99; daa
            c.rip = 0;
            t.cpu.run(1);
            assertEquals(0xffff_1234L, c.r[Cpu.RAX]);
            assertEquals(3, c.rip);
            c.r[Cpu.RAX] = 0x12;
            t.cpu.run(2);
            assertEquals(0x11, c.r[Cpu.RAX] & 0xff);
            assertTrue(Flags.cf(c) == 1, "BCD carry");
        }
    }

    @Test
    void mmioGoesThroughTheBus() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RBX] = 0xfee0_00b0L; // beyond RAM, inside the identity-mapped first GiB? no: map it
            long cr3 = FlatLongMode.identityMap(t.memory, 0x1000, 1L << 32);
            t.c.cr3 = cr3;
            t.c.mmu.flushAll();
            t.c.r[Cpu.RAX] = 0x1234;
            t.exec(1, 0x89, 0x03); // mov [rbx], eax
            assertEquals(0x1234L, t.mmio.get(0xfee0_00b0L));
            t.mmio.put(0xfee0_0020L, 0x0500_0000L);
            t.c.r[Cpu.RBX] = 0xfee0_0020L;
            t.exec(1, 0x8b, 0x03); // mov eax, [rbx]
            assertEquals(0x0500_0000L, t.c.r[Cpu.RAX]);
        }
    }

    @Test
    void modifiedCodeIsDecodedAgain() {
        try (TestCpu t = new TestCpu()) {
            t.exec(1, 0xb8, 0x01, 0, 0, 0); // mov eax, 1
            assertEquals(1, t.c.r[Cpu.RAX]);
            t.exec(1, 0xb8, 0x02, 0, 0, 0); // same address, new immediate
            assertEquals(2, t.c.r[Cpu.RAX]);
            t.exec(1, 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff); // mov rax, -1: a longer instruction
            assertEquals(-1, t.c.r[Cpu.RAX]);
            // the guest itself rewrites the immediate of the next instruction, then runs it
            t.put(TestCpu.CODE + 0x100, 0xb8, 0x05, 0, 0, 0, 0xf4); // mov eax, 5; hlt
            t.c.rip = TestCpu.CODE + 0x100;
            t.cpu.run(1);
            assertEquals(5, t.c.r[Cpu.RAX]);
            t.exec(3, 0xc6, 0x05, 0xfa, 0x00, 0x00, 0x00, 0x07, // mov byte [rip + 0xfa], 7 (the immediate)
                    0xe9, 0xf4, 0x00, 0x00, 0x00); //              jmp CODE + 0x100
            assertEquals(7, t.c.r[Cpu.RAX]);
        }
    }

    @Test
    void sameBytesDecodeDifferentlyInAnotherMode() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RAX] = 0;
            t.exec(1, 0x48, 0x40, 0x90); // 64-bit: REX prefixes then nop ... (0x48 0x40: REX ignored)
            t.c.r[Cpu.RAX] = 5;
            Cpu c = t.c;
            c.efer = 0;
            c.cr0 = Cpu.CR0_PE | Cpu.CR0_ET;
            for (int s = 0; s < 6; s++) {
                c.segBase[s] = 0;
                c.segLimit[s] = 0xffff_ffffL;
                c.segAttr[s] = (s == Cpu.CS ? 0xb : 3) | Cpu.A_S | Cpu.A_P | Cpu.A_DB | Cpu.A_G;
            }
            c.updateMode();
            c.mmu.flushAll();
            t.exec(1, 0x48, 0x40, 0x90); // 32-bit: dec eax
            assertEquals(4, c.r[Cpu.RAX]);
        }
    }

    @Test
    void cpuidReportsTheApicIdAndFeatures() {
        try (TestCpu t = new TestCpu()) {
            t.c.r[Cpu.RAX] = 1;
            t.exec(1, 0x0f, 0xa2);
            assertEquals(0, t.c.r[Cpu.RBX] >>> 24);
            assertTrue((t.c.r[Cpu.RDX] & 1) == 0, "no x87");
            assertTrue((t.c.r[Cpu.RDX] & (1 << 25)) == 0, "no SSE");
            t.c.r[Cpu.RAX] = 0x8000_0001L;
            t.exec(1, 0x0f, 0xa2);
            assertTrue((t.c.r[Cpu.RDX] & (1 << 29)) != 0, "long mode");
            assertTrue((t.c.r[Cpu.RDX] & (1 << 26)) != 0, "1 GiB pages");
            t.c.r[Cpu.RAX] = 0;
            t.exec(1, 0x0f, 0xa2);
            assertEquals(0x756e_6547L, t.c.r[Cpu.RBX], "Genu");
        }
    }
}
