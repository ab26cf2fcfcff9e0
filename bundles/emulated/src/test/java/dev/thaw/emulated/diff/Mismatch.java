package dev.thaw.emulated.diff;

import dev.thaw.emulated.diff.CpuUnderTest.CpuState;
import dev.thaw.emulated.diff.CpuUnderTest.Outcome;
import java.util.List;

/**
 * One instruction on which the CPU under test differs from the oracle, with what it takes to reproduce
 * it: the seed, sequence and index, the bytes and form, the state before (both CPUs had it), the memory
 * operand's bytes before, and every difference.
 */
record Mismatch(long seed, int sequence, int index, Insn insn, CpuState before, Outcome expected, Outcome actual,
        List<String> differences) {

    String form() {
        return insn == null ? "(memory outside the watched areas)" : insn.form().name();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append("MISMATCH ").append(form()).append(" (seed ").append(seed).append(", sequence ").append(sequence);
        if (insn != null) {
            b.append(", instruction ").append(index).append(insn.setup() ? " setup" : "");
        }
        b.append(")\n");
        if (insn != null) {
            b.append("  instruction: ").append(insn.describe()).append('\n');
            if (insn.undefinedFlags() != 0) {
                b.append("  undefined flags: ").append(Flags.names(insn.undefinedFlags())).append('\n');
            }
            if (insn.memBefore() != null) {
                b.append("  memory at ").append(Text.hex(insn.memAddress())).append(" before: ")
                        .append(Text.hex(insn.memBefore())).append('\n');
            }
            b.append("  before:\n    ").append(before.toString().replace("\n", "\n    ")).append('\n');
        }
        for (String d : differences) {
            b.append("  ").append(d).append('\n');
        }
        return b.toString();
    }
}
