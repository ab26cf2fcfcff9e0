package dev.thaw.emulated.diff;

import static dev.thaw.emulated.diff.GuestLayout.CODE;
import static dev.thaw.emulated.diff.GuestLayout.CODE_SIZE;
import static dev.thaw.emulated.diff.GuestLayout.DATA;
import static dev.thaw.emulated.diff.GuestLayout.DATA_SIZE;
import static dev.thaw.emulated.diff.GuestLayout.RAM_SIZE;
import static dev.thaw.emulated.diff.GuestLayout.STACK;
import static dev.thaw.emulated.diff.GuestLayout.STACK_SIZE;
import static dev.thaw.emulated.diff.GuestLayout.WATCHED;
import static dev.thaw.emulated.diff.GuestLayout.WATCHED_SIZE;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import dev.thaw.emulated.diff.CpuUnderTest.CpuState;
import dev.thaw.emulated.diff.CpuUnderTest.Outcome;
import dev.thaw.emulated.diff.CpuUnderTest.StepHint;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Runs generated sequences on the oracle and the CPU under test in lockstep, one instruction at a
 * time, and compares after each: the outcome, the 16 general registers, RIP, RFLAGS (less the flags
 * this instance leaves undefined), the FS/GS bases, and the data and stack areas; at the end of each
 * sequence all compared memory. After a difference (expected or not) the CPU under test is set to the
 * oracle's state, so one bug is reported once per instance and later instructions still compare.
 */
final class DiffRunner {

    /** What to run: a seed, at least {@code instructions} compared steps, sequences of 16 to 64 forms. */
    record Config(long seed, long instructions, List<Form> forms, int minSequence, int maxSequence) {
        Config(long seed, long instructions) {
            this(seed, instructions, Forms.all(), 16, 64);
        }
    }

    /** Per form: how many instances ran as the main instruction, and how many mismatched. */
    static final class Tally {
        int executed;
        int mismatched;
        int exceptions;
    }

    private final CpuUnderTest oracle;
    private final CpuUnderTest cut;
    private final Config config;
    private final Map<String, Tally> tallies = new LinkedHashMap<>();
    private final List<Mismatch> mismatches = new ArrayList<>();
    private long compared;
    private long setups;
    private int sequences;
    private static final int KEPT_PER_FORM = 3;

    DiffRunner(CpuUnderTest oracle, CpuUnderTest cut, Config config) {
        this.oracle = oracle;
        this.cut = cut;
        this.config = config;
        for (Form f : config.forms()) {
            tallies.put(f.name(), new Tally());
        }
        for (Form f : List.of(Forms.MOV_R32_IMM32, Forms.MOV_R64_IMM64, Forms.MOV_RM64_IMM32,
                Forms.MOV_RM64_IMM32_MEM, Forms.PUSH_IMM32, Forms.PUSH_IMM16)) {
            tallies.putIfAbsent(f.name(), new Tally());
        }
    }

    long compared() {
        return compared;
    }

    long setups() {
        return setups;
    }

    int sequences() {
        return sequences;
    }

    Map<String, Tally> tallies() {
        return tallies;
    }

    /** The kept mismatches (at most a few per form; {@link Tally#mismatched} counts all). */
    List<Mismatch> mismatches() {
        return mismatches;
    }

    long mismatchCount() {
        return tallies.values().stream().mapToLong(t -> t.mismatched).sum();
    }

    DiffRunner run() {
        SplittableRandom rnd = new SplittableRandom(config.seed());
        Gen gen = new Gen(rnd.split());
        List<Form> forms = config.forms();
        while (compared < config.instructions()) {
            sequences++;
            CpuState state = initialState(rnd);
            prepareMemory(rnd);
            oracle.reset(state);
            cut.reset(state);
            int length = config.minSequence() + rnd.nextInt(config.maxSequence() - config.minSequence() + 1);
            boolean ended = false;
            for (int k = 0; k < length && !ended; k++) {
                if (state.rip() > CODE + CODE_SIZE - 0x800) {
                    break;
                }
                Form form = forms.get(rnd.nextInt(forms.size()));
                List<Insn> insns = gen.generate(form, state, oracle.memory());
                for (int i = 0; i < insns.size() && !ended; i++) {
                    Insn insn = insns.get(i);
                    if (insn.address() != state.rip()) {
                        throw new IllegalStateException("generator placed " + insn.describe() + " away from RIP "
                                + Text.hex(state.rip()));
                    }
                    write(insn);
                    StepResult r = step(insn, state, k);
                    state = r.after;
                    ended = r.ended;
                }
            }
            compareAll();
        }
        return this;
    }

    private record StepResult(CpuState after, boolean ended) {}

    private void write(Insn insn) {
        MemorySegment bytes = MemorySegment.ofArray(insn.bytes());
        MemorySegment.copy(bytes, 0, oracle.memory(), insn.address(), insn.bytes().length);
        MemorySegment.copy(bytes, 0, cut.memory(), insn.address(), insn.bytes().length);
        oracle.codeWritten(insn.address(), insn.bytes().length);
        cut.codeWritten(insn.address(), insn.bytes().length);
    }

    private StepResult step(Insn insn, CpuState before, int index) {
        StepHint hint = new StepHint(insn.exits(), insn.fallback(), insn.oracleFix());
        Outcome expectedOutcome = oracle.step(hint);
        if (expectedOutcome.kind() == Outcome.Kind.OTHER) {
            throw new IllegalStateException("the oracle stopped unexpectedly (" + expectedOutcome + ") on "
                    + insn.describe() + "\nbefore:\n" + before + "\nafter:\n" + oracle.state());
        }
        Outcome actualOutcome;
        CpuState actual;
        try {
            actualOutcome = cut.step(hint);
            actual = cut.state();
        } catch (RuntimeException e) {
            // a crash of the CPU under test is a difference like any other, reported with its instruction
            actualOutcome = Outcome.other("threw " + e);
            actual = before;
        }
        CpuState expected = oracle.state();
        compared++;
        Tally tally = tallies.computeIfAbsent(insn.form().name(), n -> new Tally());
        if (insn.setup()) {
            setups++;
        } else {
            tally.executed++;
            if (expectedOutcome.kind() == Outcome.Kind.EXCEPTION) {
                tally.exceptions++;
            }
        }

        List<String> diffs = new ArrayList<>();
        if (!expectedOutcome.equals(actualOutcome)) {
            diffs.add("outcome: expected " + expectedOutcome + ", actual " + actualOutcome);
        }
        for (int i = 0; i < 16; i++) {
            if ((insn.undefinedRegs() & (1 << i)) == 0 && expected.gpr(i) != actual.gpr(i)) {
                diffs.add(Text.reg(8, i) + ": expected " + Text.hex(expected.gpr(i)) + ", actual "
                        + Text.hex(actual.gpr(i)));
            }
        }
        if (expected.rip() != actual.rip()) {
            diffs.add("rip: expected " + Text.hex(expected.rip()) + ", actual " + Text.hex(actual.rip()));
        }
        long flagMask = Flags.COMPARED & ~insn.undefinedFlags();
        long flagDiff = (expected.rflags() ^ actual.rflags()) & flagMask;
        if (flagDiff != 0) {
            diffs.add("rflags: expected " + Text.hex(expected.rflags()) + " (" + Flags.describe(expected.rflags() & flagMask)
                    + "), actual " + Text.hex(actual.rflags()) + " (" + Flags.describe(actual.rflags() & flagMask)
                    + "); differ in " + Flags.names(flagDiff)
                    + (insn.undefinedFlags() != 0 ? "; undefined here: " + Flags.names(insn.undefinedFlags()) : ""));
        }
        if (expected.fsBase() != actual.fsBase() || expected.gsBase() != actual.gsBase()) {
            diffs.add("fs/gs base: expected " + Text.hex(expected.fsBase()) + "/" + Text.hex(expected.gsBase())
                    + ", actual " + Text.hex(actual.fsBase()) + "/" + Text.hex(actual.gsBase()));
        }
        if (insn.undefinedMemLength() > 0) {
            MemorySegment.copy(oracle.memory(), insn.undefinedMem(), cut.memory(), insn.undefinedMem(),
                    insn.undefinedMemLength());
        }
        MemorySegment we = oracle.memory().asSlice(WATCHED, WATCHED_SIZE);
        MemorySegment wa = cut.memory().asSlice(WATCHED, WATCHED_SIZE);
        long at = we.mismatch(wa);
        if (at >= 0) {
            diffs.add(memoryDiff(WATCHED + at, WATCHED + WATCHED_SIZE));
            MemorySegment.copy(we, 0, wa, 0, WATCHED_SIZE);
        }
        if (!diffs.isEmpty()) {
            tally.mismatched++;
            if (tally.mismatched <= KEPT_PER_FORM) {
                mismatches.add(new Mismatch(config.seed(), sequences, index, insn, before, expectedOutcome,
                        actualOutcome, diffs));
            }
        }
        if (!expected.equals(actual)) {
            cut.setState(expected);
        }
        return new StepResult(expected, expectedOutcome.kind() != Outcome.Kind.RETIRED);
    }

    /** The differing bytes from {@code from} on (up to 8 runs), as "addr: expected .. actual ..". */
    private String memoryDiff(long from, long end) {
        StringBuilder b = new StringBuilder("memory:");
        MemorySegment e = oracle.memory();
        MemorySegment a = cut.memory();
        int runs = 0;
        long p = from;
        while (p < end && runs < 8) {
            if (e.get(JAVA_BYTE, p) == a.get(JAVA_BYTE, p)) {
                p++;
                continue;
            }
            long q = p;
            while (q < end && q - p < 16 && e.get(JAVA_BYTE, q) != a.get(JAVA_BYTE, q)) {
                q++;
            }
            b.append("\n    ").append(Text.hex(p)).append(": expected ")
                    .append(Text.hex(e.asSlice(p, q - p).toArray(JAVA_BYTE))).append(", actual ")
                    .append(Text.hex(a.asSlice(p, q - p).toArray(JAVA_BYTE)));
            runs++;
            p = q;
        }
        return b.toString();
    }

    /** After a sequence: everything from the code area up must be identical. */
    private void compareAll() {
        MemorySegment e = oracle.memory().asSlice(CODE, RAM_SIZE - CODE);
        MemorySegment a = cut.memory().asSlice(CODE, RAM_SIZE - CODE);
        long at = e.mismatch(a);
        if (at >= 0) {
            Tally t = tallies.computeIfAbsent("(memory outside the watched areas)", n -> new Tally());
            t.mismatched++;
            if (t.mismatched <= KEPT_PER_FORM) {
                mismatches.add(new Mismatch(config.seed(), sequences, -1, null, null, null, null,
                        List.of(memoryDiff(CODE + at, RAM_SIZE))));
            }
            MemorySegment.copy(e, 0, a, 0, RAM_SIZE - CODE);
        }
    }

    private static CpuState initialState(SplittableRandom rnd) {
        long[] g = new long[16];
        for (int i = 0; i < 16; i++) {
            double x = rnd.nextDouble();
            if (x < 0.35) {
                g[i] = DATA + GuestLayout.MARGIN + rnd.nextLong(DATA_SIZE - 2 * GuestLayout.MARGIN);
            } else if (x < 0.45) {
                g[i] = rnd.nextInt(512) - 256;
            } else if (x < 0.55) {
                long[] special = {0, -1, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, Long.MIN_VALUE, Long.MAX_VALUE,
                    0x8000, 0x80, 1};
                g[i] = special[rnd.nextInt(special.length)];
            } else {
                g[i] = rnd.nextLong();
            }
        }
        long rsp = STACK + STACK_SIZE / 2 + rnd.nextInt(0x2000) - 0x1000;
        g[Gen.RSP] = rnd.nextDouble() < 0.8 ? rsp & -8 : rsp;
        long rflags = 0x202 | (rnd.nextLong() & Flags.STATUS) | (rnd.nextDouble() < 0.25 ? Flags.DF : 0);
        return new CpuState(g, CODE, rflags, segmentBase(rnd), segmentBase(rnd));
    }

    private static long segmentBase(SplittableRandom rnd) {
        double x = rnd.nextDouble();
        if (x < 0.3) {
            return 0;
        }
        long v = rnd.nextInt(0x1000) << 4;
        return x < 0.7 ? v : -v;
    }

    private void prepareMemory(SplittableRandom rnd) {
        MemorySegment m = oracle.memory();
        for (long p = DATA; p < STACK + STACK_SIZE; p += 8) {
            m.set(JAVA_LONG_UNALIGNED, p, rnd.nextLong());
        }
        m.asSlice(CODE, CODE_SIZE).fill(GuestLayout.INT3);
        MemorySegment.copy(m, CODE, cut.memory(), CODE, RAM_SIZE - CODE);
    }

    /** The one-line summary for logs and project notes. */
    String summary() {
        long covered = tallies.values().stream().filter(t -> t.executed > 0).count();
        return String.format("%s vs %s: %d forms (%d covered), %d instructions compared (%d setups) in %d sequences,"
                + " %d mismatches, seed %d", cut.name(), oracle.name(), config.forms().size(), covered, compared, setups,
                sequences, mismatchCount(), config.seed());
    }
}
