package dev.thaw.emulated.diff;

/** RFLAGS bits, and which of them the test compares. */
final class Flags {

    static final long CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400,
            OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, ID = 0x200000;
    /** The six status flags. */
    static final long STATUS = CF | PF | AF | ZF | SF | OF;
    /** Flags compared after every instruction (RF, VM, VIF, VIP are not: user code cannot observe them here). */
    static final long COMPARED = STATUS | TF | IF | DF | IOPL | NT | AC | ID;
    /** What POPF may load in the test (both CPUs keep IF, IOPL, AC and TF as they were). */
    static final long POPF_SAFE = STATUS | DF | NT;

    private static final long[] BITS = {CF, PF, AF, ZF, SF, TF, IF, DF, OF, NT, RF, AC, ID};
    private static final String[] NAMES = {"CF", "PF", "AF", "ZF", "SF", "TF", "IF", "DF", "OF", "NT", "RF", "AC", "ID"};

    private Flags() {}

    /** The set flags' names ("CF ZF IF"), IOPL if nonzero. */
    static String describe(long rflags) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < BITS.length; i++) {
            if ((rflags & BITS[i]) != 0) {
                b.append(b.isEmpty() ? "" : " ").append(NAMES[i]);
            }
        }
        if ((rflags & IOPL) != 0) {
            b.append(b.isEmpty() ? "" : " ").append("IOPL=").append((rflags & IOPL) >>> 12);
        }
        return b.isEmpty() ? "-" : b.toString();
    }

    /** The names of the flags in {@code mask} (for "undefined: AF OF" and "differ: CF"). */
    static String names(long mask) {
        return describe(mask);
    }
}
