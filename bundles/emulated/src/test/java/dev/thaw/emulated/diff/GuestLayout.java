package dev.thaw.emulated.diff;

/**
 * Guest memory as both CPUs see it (guest physical = linear address). The low megabyte belongs to the
 * CPU adapter (page tables, descriptor tables: whatever its CPU needs to run 64-bit code there) and is
 * never compared; everything from {@link #CODE} up is compared.
 */
final class GuestLayout {

    /** All guest RAM: one 2 MiB page. */
    static final long RAM_SIZE = 0x20_0000;
    /** Below this, the adapter's own structures. */
    static final long ADAPTER_END = 0x10_0000;
    /** Generated code; filled with INT3 before each sequence so a runaway stops. */
    static final long CODE = 0x10_0000;
    static final long CODE_SIZE = 0x1_0000;
    /** The data area memory operands land in: 64 KiB of random bytes per sequence. */
    static final long DATA = 0x11_0000;
    static final long DATA_SIZE = 0x1_0000;
    /** The stack area. */
    static final long STACK = 0x12_0000;
    static final long STACK_SIZE = 0x1_0000;
    /** Compared after every instruction: the data area and the stack, which are adjacent. */
    static final long WATCHED = DATA;
    static final long WATCHED_SIZE = DATA_SIZE + STACK_SIZE;

    /** Memory operands stay this far inside the data and stack areas (string operations, pushes). */
    static final long MARGIN = 0x400;
    /** RSP stays in [STACK + RSP_MARGIN, STACK_END - RSP_MARGIN] before any stack instruction. */
    static final long RSP_MARGIN = 0x2000;

    static final byte INT3 = (byte) 0xcc;

    private GuestLayout() {}

    static boolean inData(long a, long size) {
        return a >= DATA + MARGIN && a <= DATA + DATA_SIZE - MARGIN - size;
    }

    static boolean inStack(long a, long size) {
        return a >= STACK + MARGIN && a <= STACK + STACK_SIZE - MARGIN - size;
    }

    static boolean rspOk(long rsp) {
        return rsp >= STACK + RSP_MARGIN && rsp <= STACK + STACK_SIZE - RSP_MARGIN;
    }
}
