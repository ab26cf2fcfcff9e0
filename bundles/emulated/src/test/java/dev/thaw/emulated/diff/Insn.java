package dev.thaw.emulated.diff;

import dev.thaw.emulated.diff.CpuUnderTest.OracleFix;
import dev.thaw.emulated.diff.CpuUnderTest.Semantics;

/**
 * One generated instruction, ready to write and run: its address and bytes, the form it exercises,
 * where it may continue, and what the SDM leaves undefined for this instance (status flags, registers,
 * memory bytes), which the comparison ignores and then copies from the oracle.
 *
 * @param oracleFix how to correct the oracle's result where it is known wrong, or null
 * @param setup whether the generator inserted it to prepare a later instruction's operands
 * @param operands a disassembly hint for reports ("dword [rbx+rcx*4+0x10] (ea 0x110230), esi")
 * @param memBefore the operand bytes before execution (for reproducers), or null
 */
record Insn(long address, byte[] bytes, Form form, boolean setup, String operands, long[] exits,
        long undefinedFlags, int undefinedRegs, long undefinedMem, int undefinedMemLength, Semantics fallback,
        OracleFix oracleFix, long memAddress, byte[] memBefore) {

    long next() {
        return address + bytes.length;
    }

    String describe() {
        return form.name() + (operands.isEmpty() ? "" : ": " + operands) + " @" + Text.hex(address) + " bytes "
                + Text.hex(bytes);
    }
}
