/**
 * The differential test of Thaw's x86-64 interpreter against Unicorn 2 (QEMU's TCG CPU as a library).
 *
 * <p><b>What runs.</b> {@link dev.thaw.emulated.diff.Forms} is the table of instruction forms of the
 * general-purpose integer ISA in 64-bit mode: every encoding of every mnemonic at every operand size,
 * register and memory r/m operands as separate forms, plus INT3/INT n and a few #UD encodings
 * ({@code Forms.summary()} counts them by group). {@link dev.thaw.emulated.diff.Gen} generates instances
 * online from the oracle's current state: operands and addressing (prefixes 66/67/REX, segment overrides,
 * ModRM/SIB, disp8/disp32, RIP-relative, AH..BH vs SPL..DIL) are random; addresses are solved so every
 * access lands in the data or stack area, inserting setup MOVs when no register value reaches it;
 * branches go forward; DIV operands fault about 5% of the time. {@link dev.thaw.emulated.diff.DiffRunner}
 * single-steps the oracle and the CPU under test ({@link dev.thaw.emulated.diff.CpuUnderTest}) in
 * lockstep and compares after every instruction: outcome (exception vector), registers, RIP, RFLAGS less
 * the flags this instance leaves undefined, FS/GS bases, data and stack memory.
 *
 * <p><b>Reproducing.</b> Everything follows from the seed ({@code -Ddiff.seed=N}); a mismatch prints the
 * seed, sequence, instruction index, bytes, form, the state before and each difference.
 * {@code -Ddiff.instructions=N}, {@code -Ddiff.pageCrossing=P} and {@code -Ddiff.verbose=true} tune a run.
 *
 * <p><b>The oracle's own bugs.</b> Unicorn 2.0.1 is wrong in a few places where the host CPU and the SDM
 * agree; {@link dev.thaw.emulated.diff.UnicornCpu} applies the generator's corrections there (listed in
 * {@link dev.thaw.emulated.diff.Forms}), computes POPCNT and MOVBE (missing from its CPUID) in Java, and
 * restores a pristine CPU context per sequence (its exception state leaks into later exceptions).
 * Unicorn runs at CPL0 and has no canonical-address checks or user/supervisor paging, so only user-mode
 * instruction semantics are compared.
 */
package dev.thaw.emulated.diff;
