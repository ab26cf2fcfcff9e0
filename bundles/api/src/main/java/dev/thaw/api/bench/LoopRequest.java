package dev.thaw.api.bench;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * What a {@link CodeLoopRunner} runs, and over what.
 *
 * @param memory guest physical memory from address 0: native, 4 KiB aligned, whole pages.
 *     [0, {@link #SYSTEM_BYTES}) is the runner's own (page tables, descriptor tables, its stack), and so is
 *     the byte after the code (where a runner may put an instruction that stops it); the rest is the code's
 * @param codeAddress where the runner places {@code code}, at or above {@link #SYSTEM_BYTES}
 * @param code the machine code: the run starts at its first byte and ends when RIP reaches the byte after it
 * @param registers the 16 general registers at the start, in the encoding's order (RAX, RCX, RDX, RBX, RSP,
 *     RBP, RSI, RDI, R8 to R15); RFLAGS starts as 0x2
 */
public record LoopRequest(MemorySegment memory, long codeAddress, byte[] code, long[] registers) {

    /** The bytes at the start of memory that belong to the runner. */
    public static final long SYSTEM_BYTES = 0x10000;

    public LoopRequest {
        Objects.requireNonNull(memory, "memory");
        code = code.clone();
        registers = registers.clone();
        if (!memory.isNative() || memory.address() % 4096 != 0 || memory.byteSize() % 4096 != 0) {
            throw new IllegalArgumentException("memory must be native, 4 KiB aligned whole pages: " + memory);
        }
        if (registers.length != 16) {
            throw new IllegalArgumentException(registers.length + " registers; 16 general registers are needed");
        }
        if (code.length == 0 || codeAddress < SYSTEM_BYTES || codeAddress > memory.byteSize() - code.length - 1) {
            throw new IllegalArgumentException("code of " + code.length + " bytes at 0x" + Long.toHexString(codeAddress)
                    + " does not fit between 0x" + Long.toHexString(SYSTEM_BYTES) + " and the memory's end with a byte to spare");
        }
    }

    /** The code (a copy). */
    @Override
    public byte[] code() {
        return code.clone();
    }

    /** The registers at the start (a copy). */
    @Override
    public long[] registers() {
        return registers.clone();
    }
}
