package dev.thaw.bench.impl;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.thaw.api.bench.CodeLoopRunner;
import dev.thaw.api.bench.LoopRequest;
import dev.thaw.api.bench.LoopRun;
import dev.thaw.linux.unicorn.UcX86;
import dev.thaw.linux.unicorn.Unicorn;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * Unicorn 2 (QEMU's TCG CPU as a library) as a {@link CodeLoopRunner}: a fresh engine per run, in
 * {@code UC_MODE_64}, with the request's memory mapped as its RAM ({@code uc_mem_map_ptr}). Unicorn's
 * register API cannot change the CPL, so the run starts at an IRETQ in the runner's system area that
 * returns to the code at CPL 3 through user code and data descriptors of a GDT there; Unicorn's 64-bit
 * mode has no guest paging. The run ends where Unicorn is told to stop: the code's end. It counts no
 * instructions (a per-instruction hook would be the cost measured).
 */
final class UnicornLoopRunner implements CodeLoopRunner {

    static final String NAME = "unicorn";
    static final long GDT = 0x1000;
    static final long IRETQ = 0x2000;
    /** The IRETQ frame's address: RIP, CS, RFLAGS, RSP, SS. */
    static final long FRAME = 0x3000;
    static final int USER_DATA = 0x2b;
    static final int USER_CODE = 0x33;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Unicorn " + version() + " (QEMU's TCG): 64-bit mode at CPL 3 (entered through IRETQ), no guest paging";
    }

    @Override
    public Optional<String> unavailableReason() {
        return Unicorn.unavailableReason();
    }

    /** Unicorn's version, e.g. {@code 2.0.1}. */
    static String version() {
        int v = Unicorn.version();
        return (v >>> 24) + "." + (v >>> 16 & 0xff) + "." + (v >>> 8 & 0xff);
    }

    @Override
    public LoopRun run(LoopRequest request) {
        MemorySegment ram = request.memory();
        byte[] code = request.code();
        long end = request.codeAddress() + code.length;
        long[] g = request.registers();
        MemorySegment.copy(MemorySegment.ofArray(code), 0, ram, request.codeAddress(), code.length);
        ram.set(JAVA_LONG_UNALIGNED, GDT + USER_DATA - 3, 0x00cf_f300_0000_ffffL); // data, writable, DPL 3
        ram.set(JAVA_LONG_UNALIGNED, GDT + USER_CODE - 3, 0x00af_fb00_0000_ffffL); // code, 64-bit, DPL 3
        ram.set(JAVA_SHORT_UNALIGNED, IRETQ, (short) 0xcf48); // iretq
        long[] frame = {request.codeAddress(), USER_CODE, 0x2, g[4], USER_DATA};
        for (int i = 0; i < frame.length; i++) {
            ram.set(JAVA_LONG_UNALIGNED, FRAME + 8L * i, frame[i]);
        }
        try (Unicorn uc = Unicorn.open(Unicorn.UC_ARCH_X86, Unicorn.UC_MODE_64)) {
            uc.memMapPtr(0, ram, Unicorn.UC_PROT_ALL);
            uc.regWriteMmr(UcX86.UC_X86_REG_GDTR, 0, GDT, USER_CODE | 7, 0);
            Unicorn.RegBatch gprs = uc.batch(UcX86.gprs());
            long[] start = g.clone();
            start[4] = FRAME; // IRETQ pops the code's RSP from the frame
            gprs.write(start);
            long t0 = System.nanoTime();
            int err = uc.emuStart(IRETQ, end, 0, 0);
            long nanos = System.nanoTime() - t0;
            long rip = uc.regRead(UcX86.UC_X86_REG_RIP);
            long cs = uc.regRead(UcX86.UC_X86_REG_CS);
            if (err != Unicorn.UC_ERR_OK || rip != end || cs != USER_CODE) {
                throw new IllegalStateException("Unicorn stopped at rip 0x" + Long.toHexString(rip) + " with cs 0x"
                        + Long.toHexString(cs) + " (" + (err == Unicorn.UC_ERR_OK ? "no error" : Unicorn.strerror(err))
                        + "), not at the code's end 0x" + Long.toHexString(end) + " at CPL 3");
            }
            long[] out = new long[16];
            gprs.read(out);
            return new LoopRun(out, -1, nanos);
        }
    }
}
