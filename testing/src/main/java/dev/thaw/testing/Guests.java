package dev.thaw.testing;

/**
 * Tiny hand-assembled 32-bit guests for the tests of the vCPU runtimes, loaded at {@link #ENTRY} and
 * started in 32-bit protected mode (flat segments, paging off, CPL0, interrupts off; EBX 0x7000, ESI the
 * vCPU index, every other general register 0). Under PVM this code is emulated, about 2 million
 * instructions a second. Assembled with GNU as ({@code .code32}); listings beside.
 */
public final class Guests {

    public static final long ENTRY = 0x100000;
    /** A 32-bit counter some guests keep. */
    public static final long COUNTER = 0x2000;

    /**
     * <pre>
     * 100000  b0 42             mov  $0x42,%al
     * 100002  e6 10             out  %al,$0x10
     * 100004  66 b8 34 12       mov  $0x1234,%ax
     * 100008  66 e7 11          out  %ax,$0x11
     * 10000b  b8 ef be ad de    mov  $0xdeadbeef,%eax
     * 100010  66 ba 12 00       mov  $0x12,%dx
     * 100014  ef                out  %eax,(%dx)
     * 100015  e4 13             in   $0x13,%al
     * 100017  e6 14             out  %al,$0x14
     * 100019  be 2e 00 10 00    mov  $0x10002e,%esi
     * 10001e  b9 03 00 00 00    mov  $0x3,%ecx
     * 100023  66 ba 15 00       mov  $0x15,%dx
     * 100027  f3 6e             rep outsb %ds:(%esi),(%dx)
     * 100029  b0 99             mov  $0x99,%al
     * 10002b  e6 16             out  %al,$0x16
     * 10002d  f4                hlt
     * 10002e  "abc"
     * </pre>
     */
    public static final byte[] PORT_IO = bytes(
            0xb0, 0x42, 0xe6, 0x10, 0x66, 0xb8, 0x34, 0x12, 0x66, 0xe7, 0x11, 0xb8,
            0xef, 0xbe, 0xad, 0xde, 0x66, 0xba, 0x12, 0x00, 0xef, 0xe4, 0x13, 0xe6,
            0x14, 0xbe, 0x2e, 0x00, 0x10, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0x66,
            0xba, 0x15, 0x00, 0xf3, 0x6e, 0xb0, 0x99, 0xe6, 0x16, 0xf4, 0x61, 0x62,
            0x63);
    public static final long PORT_IO_HLT = 0x10002d;

    /**
     * Loads an IDT of limit 0 and executes an undefined instruction: #UD cannot be delivered, nor #DF,
     * so the CPU shuts down (triple fault).
     * <pre>
     * 100000  0f 01 1d 10 00 10 00   lidtl 0x100010     (6 zero bytes there: limit 0, base 0)
     * 100007  0f 0b                  ud2
     * </pre>
     */
    public static final byte[] TRIPLE_FAULT = bytes(0x0f, 0x01, 0x1d, 0x10, 0x00, 0x10, 0x00, 0x0f, 0x0b);

    /**
     * <pre>
     * 100000  ff 05 00 20 00 00   incl 0x2000
     * 100006  eb f8               jmp  0x100000
     * </pre>
     */
    public static final byte[] COUNTER_LOOP = bytes(0xff, 0x05, 0x00, 0x20, 0x00, 0x00, 0xeb, 0xf8);

    /**
     * Takes a token from port 0x30, keeps it at 0x2000 and echoes it to port 0x31, forever. KVM completes
     * an {@code in} (stores EAX, advances RIP) only on the next KVM_RUN, so a pause that skipped that
     * completion would leave RIP on A with the token handed out but not stored.
     * <pre>
     * 100000  e5 30              in   $0x30,%eax     (A)
     * 100002  a3 00 20 00 00     mov  %eax,0x2000    (B)
     * 100007  e7 31              out  %eax,$0x31     (C)
     * 100009  eb f5              jmp  0x100000       (D)
     * </pre>
     */
    public static final byte[] ECHO = bytes(0xe5, 0x30, 0xa3, 0x00, 0x20, 0x00, 0x00, 0xe7, 0x31, 0xeb, 0xf5);
    public static final long ECHO_A = 0x100000;
    public static final long ECHO_B = 0x100002;
    public static final long ECHO_C = 0x100007;
    public static final long ECHO_D = 0x100009;
    public static final int ECHO_IN_PORT = 0x30;
    public static final int ECHO_OUT_PORT = 0x31;

    /**
     * Reads 10000 bytes from port 0x33 to 0x10000 with one {@code rep insb} (several I/O exits, since
     * KVM moves at most a page per exit), reports the final EDI to port 0x34 and halts.
     * <pre>
     * 100000  bf 00 00 01 00     mov  $0x10000,%edi
     * 100005  b9 10 27 00 00     mov  $0x2710,%ecx
     * 10000a  66 ba 33 00        mov  $0x33,%dx
     * 10000e  fc                 cld
     * 10000f  f3 6c              rep insb (%dx),%es:(%edi)
     * 100011  89 f8              mov  %edi,%eax
     * 100013  e7 34              out  %eax,$0x34
     * 100015  f4                 hlt
     * </pre>
     */
    public static final byte[] REP_INSB = bytes(
            0xbf, 0x00, 0x00, 0x01, 0x00, 0xb9, 0x10, 0x27, 0x00, 0x00, 0x66, 0xba,
            0x33, 0x00, 0xfc, 0xf3, 0x6c, 0x89, 0xf8, 0xe7, 0x34, 0xf4);
    public static final long REP_INSB_BUFFER = 0x10000;
    public static final int REP_INSB_COUNT = 10000;
    public static final long REP_INSB_INSN = 0x10000f;
    public static final int REP_INSB_PORT = 0x33;
    public static final int REP_INSB_DONE_PORT = 0x34;

    /**
     * Reports the APIC ID that CPUID leaf 1 gives this vCPU (port 0x31), then its index from ESI
     * (port 0x32), then spins (a halt with interrupts off could end the VM before the other vCPU reports).
     * <pre>
     * 100000  89 f7              mov  %esi,%edi
     * 100002  b8 01 00 00 00     mov  $0x1,%eax
     * 100007  0f a2              cpuid
     * 100009  c1 eb 18           shr  $0x18,%ebx
     * 10000c  89 d8              mov  %ebx,%eax
     * 10000e  e7 31              out  %eax,$0x31
     * 100010  89 f8              mov  %edi,%eax
     * 100012  e7 32              out  %eax,$0x32
     * 100014  eb fe              jmp  0x100014
     * </pre>
     */
    public static final byte[] SMP_HELLO = bytes(
            0x89, 0xf7, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xc1, 0xeb, 0x18,
            0x89, 0xd8, 0xe7, 0x31, 0x89, 0xf8, 0xe7, 0x32, 0xeb, 0xfe);

    /**
     * Sets up the PICs as a PC does (master at vector 0x20, slave at 0x28, edge triggered) with only IRQ 4
     * unmasked, loads a flat GDT (code 0x08, data 0x10) and an IDT whose only present gate is vector
     * 0x24's (so any other vector shuts the CPU down), reports it is ready to port 0x35 and waits in
     * {@code sti; hlt}. Each interrupt increments the counter at 0x2000, reports it to port 0x36 and sends
     * the master PIC an EOI. Its stack is below 0x8000.
     * <pre>
     * 100000  bc 00 80 00 00         mov  $0x8000,%esp
     * 100005  0f 01 15 68 00 10 00   lgdtl 0x100068
     * 10000c  0f 01 1d 60 00 10 00   lidtl 0x100060
     * 100013  b0 11                  mov  $0x11,%al       (ICW1: edge, cascade, ICW4)
     * 100015  e6 20                  out  %al,$0x20
     * 100017  e6 a0                  out  %al,$0xa0
     * 100019  b0 20                  mov  $0x20,%al       (ICW2: vector bases)
     * 10001b  e6 21                  out  %al,$0x21
     * 10001d  b0 28                  mov  $0x28,%al
     * 10001f  e6 a1                  out  %al,$0xa1
     * 100021  b0 04                  mov  $0x4,%al        (ICW3: slave on IRQ 2)
     * 100023  e6 21                  out  %al,$0x21
     * 100025  b0 02                  mov  $0x2,%al
     * 100027  e6 a1                  out  %al,$0xa1
     * 100029  b0 01                  mov  $0x1,%al        (ICW4: 8086 mode)
     * 10002b  e6 21                  out  %al,$0x21
     * 10002d  e6 a1                  out  %al,$0xa1
     * 10002f  b0 ef                  mov  $0xef,%al       (OCW1: only IRQ 4)
     * 100031  e6 21                  out  %al,$0x21
     * 100033  b0 ff                  mov  $0xff,%al
     * 100035  e6 a1                  out  %al,$0xa1
     * 100037  e6 35                  out  %al,$0x35
     * 100039  fb                     sti                  (idle)
     * 10003a  f4                     hlt
     * 10003b  eb fc                  jmp  0x100039
     * 100040  ff 05 00 20 00 00      incl 0x2000          (the handler of vector 0x24)
     * 100046  a1 00 20 00 00         mov  0x2000,%eax
     * 10004b  e7 36                  out  %eax,$0x36
     * 10004d  b0 20                  mov  $0x20,%al       (EOI)
     * 10004f  e6 20                  out  %al,$0x20
     * 100051  cf                     iret
     * 100060  27 01 80 00 10 00      IDTR: limit 0x127, base 0x100080
     * 100068  17 00 b0 01 10 00      GDTR: limit 0x17, base 0x1001b0
     * 1001a0  40 00 08 00 00 8e 10 00   IDT entry 0x24: 32-bit interrupt gate to 0x08:0x100040
     * 1001b0  null descriptor, then flat 4 GiB code (0x08) and data (0x10) descriptors
     * </pre>
     */
    public static final byte[] PIC_INTERRUPT = picInterrupt();
    public static final int PIC_INTERRUPT_IRQ = 4;
    public static final int PIC_INTERRUPT_READY_PORT = 0x35;
    public static final int PIC_INTERRUPT_PORT = 0x36;
    /** Where the idle loop is: {@code sti}, {@code hlt} and the {@code jmp} back, up to (not including) the end. */
    public static final long PIC_INTERRUPT_IDLE = 0x100039;
    public static final long PIC_INTERRUPT_IDLE_END = 0x10003d;

    private static byte[] picInterrupt() {
        byte[] image = new byte[0x1c8];
        byte[] code = bytes(
                0xbc, 0x00, 0x80, 0x00, 0x00, 0x0f, 0x01, 0x15, 0x68, 0x00, 0x10, 0x00,
                0x0f, 0x01, 0x1d, 0x60, 0x00, 0x10, 0x00, 0xb0, 0x11, 0xe6, 0x20, 0xe6,
                0xa0, 0xb0, 0x20, 0xe6, 0x21, 0xb0, 0x28, 0xe6, 0xa1, 0xb0, 0x04, 0xe6,
                0x21, 0xb0, 0x02, 0xe6, 0xa1, 0xb0, 0x01, 0xe6, 0x21, 0xe6, 0xa1, 0xb0,
                0xef, 0xe6, 0x21, 0xb0, 0xff, 0xe6, 0xa1, 0xe6, 0x35, 0xfb, 0xf4, 0xeb,
                0xfc);
        byte[] handler = bytes(
                0xff, 0x05, 0x00, 0x20, 0x00, 0x00, 0xa1, 0x00, 0x20, 0x00, 0x00, 0xe7,
                0x36, 0xb0, 0x20, 0xe6, 0x20, 0xcf);
        byte[] idtr = bytes(0x27, 0x01, 0x80, 0x00, 0x10, 0x00);
        byte[] gdtr = bytes(0x17, 0x00, 0xb0, 0x01, 0x10, 0x00);
        byte[] gate = bytes(0x40, 0x00, 0x08, 0x00, 0x00, 0x8e, 0x10, 0x00);
        byte[] gdt = bytes(
                0, 0, 0, 0, 0, 0, 0, 0,
                0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00,
                0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00);
        System.arraycopy(code, 0, image, 0, code.length);
        System.arraycopy(handler, 0, image, 0x40, handler.length);
        System.arraycopy(idtr, 0, image, 0x60, idtr.length);
        System.arraycopy(gdtr, 0, image, 0x68, gdtr.length);
        System.arraycopy(gate, 0, image, 0x80 + 0x24 * 8, gate.length);
        System.arraycopy(gdt, 0, image, 0x1b0, gdt.length);
        return image;
    }

    private Guests() {}

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
