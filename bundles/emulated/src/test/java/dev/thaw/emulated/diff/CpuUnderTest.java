package dev.thaw.emulated.diff;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A CPU the differential test drives one instruction at a time: the Thaw interpreter, or Unicorn as the
 * oracle. It runs 64-bit code with flat segments over its own guest memory ({@link #memory()}, guest
 * physical = linear address, laid out as {@link GuestLayout} says) and reports exceptions as an
 * {@link Outcome} instead of delivering them. Callers never ask which implementation they have.
 */
interface CpuUnderTest extends AutoCloseable {

    /** A short name for reports ("unicorn", "interpreter"). */
    String name();

    /** All of guest memory, {@link GuestLayout#RAM_SIZE} bytes from guest address 0. */
    MemorySegment memory();

    /**
     * Starts a new sequence: forgets everything not in {@code state} (cached translations, pending
     * exception state, lazy flags), then loads {@code state}.
     */
    void reset(CpuState state);

    /** Loads {@code state} between instructions (resynchronisation after an expected difference). */
    void setState(CpuState state);

    /** The architectural state between instructions. */
    CpuState state();

    /** The harness wrote instruction bytes at [{@code address}, +{@code length}): drop any decoded copy. */
    void codeWritten(long address, int length);

    /**
     * Executes exactly one instruction (a REP string instruction to its end). {@code hint} says where
     * the instruction may continue and how to compute it where an oracle lacks it; an implementation
     * that needs neither ignores it.
     */
    Outcome step(StepHint hint);

    @Override
    void close();

    /**
     * The state the test compares: the 16 general registers in encoding order (RAX, RCX, RDX, RBX,
     * RSP, RBP, RSI, RDI, R8..R15), RIP, RFLAGS and the FS and GS bases.
     */
    record CpuState(long[] gprs, long rip, long rflags, long fsBase, long gsBase) {
        public CpuState {
            if (gprs.length != 16) {
                throw new IllegalArgumentException("16 general registers, not " + gprs.length);
            }
            gprs = gprs.clone();
        }

        @Override
        public long[] gprs() {
            return gprs.clone();
        }

        long gpr(int n) {
            return gprs[n];
        }

        CpuState withRip(long newRip) {
            return new CpuState(gprs, newRip, rflags, fsBase, gsBase);
        }

        CpuState withRflags(long newRflags) {
            return new CpuState(gprs, rip, newRflags, fsBase, gsBase);
        }

        CpuState withGpr(int n, long value) {
            long[] g = gprs.clone();
            g[n] = value;
            return new CpuState(g, rip, rflags, fsBase, gsBase);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CpuState s && Arrays.equals(gprs, s.gprs) && rip == s.rip && rflags == s.rflags
                    && fsBase == s.fsBase && gsBase == s.gsBase;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(gprs) * 31 + Long.hashCode(rip ^ rflags ^ fsBase ^ gsBase);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                b.append(Text.reg(8, i)).append('=').append(Text.hex(gprs[i])).append(i % 4 == 3 ? "\n" : " ");
            }
            return b.append("rip=").append(Text.hex(rip)).append(" rflags=").append(Text.hex(rflags))
                    .append(" (").append(Flags.describe(rflags)).append(") fs.base=").append(Text.hex(fsBase))
                    .append(" gs.base=").append(Text.hex(gsBase)).toString();
        }
    }

    /** How one instruction ended: retired, or stopped by an exception (vector), or something else. */
    record Outcome(Kind kind, int vector, String detail) {
        enum Kind { RETIRED, EXCEPTION, OTHER }

        static final Outcome RETIRED = new Outcome(Kind.RETIRED, -1, "");

        static Outcome exception(int vector) {
            return new Outcome(Kind.EXCEPTION, vector, "");
        }

        static Outcome other(String detail) {
            return new Outcome(Kind.OTHER, -1, detail);
        }

        @Override
        public String toString() {
            return switch (kind) {
                case RETIRED -> "retired";
                case EXCEPTION -> "exception " + vector + " (" + Text.vector(vector) + ")";
                case OTHER -> "stopped: " + detail;
            };
        }
    }

    /**
     * What the generator knows about an instruction that a CPU may use: the addresses where it can
     * continue ({@code exits}: the next instruction and, for branches, the target), a model of its
     * semantics for an oracle that lacks the instruction, and a correction for an oracle known to get
     * this instance wrong (both null for most; see {@link UnicornCpu}).
     */
    record StepHint(long[] exits, Semantics fallback, OracleFix oracleFix) {
        StepHint(long[] exits, Semantics fallback) {
            this(exits, fallback, null);
        }
    }

    /**
     * Corrects an oracle's result where it is known to differ from the hardware and the SDM: applied
     * after the instruction retired, with the state before it.
     */
    @FunctionalInterface
    interface OracleFix {
        void apply(CpuUnderTest oracle, CpuState before);
    }

    /** An instruction's effect computed in Java on a CPU's state and memory (an oracle's stand-in). */
    @FunctionalInterface
    interface Semantics {
        void apply(CpuUnderTest cpu);
    }
}
