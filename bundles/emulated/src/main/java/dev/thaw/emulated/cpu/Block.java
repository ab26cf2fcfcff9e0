package dev.thaw.emulated.cpu;

/**
 * Straight-line guest code decoded once: instructions that follow each other in one page, from a start
 * address up to and including the first one after which execution may not simply go on with the next
 * ({@link #mayContinueAfter}), at most {@link #MAX_INSNS}. The run loop executes a block's instructions
 * one after another without looking anything up between them; {@link BlockCache} checks, when a block is
 * entered, that the bytes in memory are still the ones it was decoded from.
 */
final class Block {

    static final int MAX_INSNS = 32;
    /** The longest a block can be in bytes (instructions are at most 15 bytes). */
    static final int MAX_BYTES = MAX_INSNS * 15;

    /** The linear address of the first instruction, and the decode mode ({@link Cpu#decodeMode}) of all. */
    long lin = -1;
    int mode;
    /** Made on first use and kept for the next block decoded into this slot. */
    final Insn[] insns = new Insn[MAX_INSNS];
    int count;
    /** Total length of the instructions, in bytes. */
    int byteLen;
    /** The bytes the block was decoded from, as little-endian words; the last word's unused bytes are 0. */
    final long[] words = new long[(MAX_BYTES + 7) / 8];
    int wordCount;
    /** Which bytes of the last word belong to the block. */
    long lastMask;

    Insn insn(int k) {
        Insn i = insns[k];
        if (i == null) {
            i = new Insn();
            insns[k] = i;
        }
        return i;
    }

    /**
     * Whether the instruction after {@code i} may run in the same block: {@code i} does not transfer
     * control, change the mode, privilege, paging, segments or interrupt state, do I/O, stop the vCPU or
     * take a lock, and writes memory only through the MMU's checked paths (so a write to the block's own
     * code is noticed). Everything else ends its block.
     */
    static boolean mayContinueAfter(Insn i) {
        if ((i.prefix & (Insn.P_LOCK | Insn.P_REP | Insn.P_REPNE)) != 0) {
            return false;
        }
        int op = i.op;
        if (op < 0x40) {
            return (op & 7) <= 5; // the primary arithmetic forms; not segment pushes and pops or BCD
        }
        return switch (op) {
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
                 0x63, 0x69, 0x6b, 0x80, 0x81, 0x83, 0x84, 0x85, 0x88, 0x89, 0x8a, 0x8b, 0x8d, 0x90, 0x98, 0x99,
                 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
                 0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7,
                 0x11f, 0x140, 0x141, 0x142, 0x143, 0x144, 0x145, 0x146, 0x147, 0x148, 0x149, 0x14a, 0x14b, 0x14c,
                 0x14d, 0x14e, 0x14f, 0x190, 0x191, 0x192, 0x193, 0x194, 0x195, 0x196, 0x197, 0x198, 0x199, 0x19a,
                 0x19b, 0x19c, 0x19d, 0x19e, 0x19f, 0x1a3, 0x1a4, 0x1a5, 0x1ab, 0x1ac, 0x1ad, 0x1af, 0x1b3, 0x1b6,
                 0x1b7, 0x1b8, 0x1ba, 0x1bb, 0x1bc, 0x1bd, 0x1be, 0x1bf, 0x1c8, 0x1c9, 0x1ca, 0x1cb, 0x1cc, 0x1cd,
                 0x1ce, 0x1cf -> true;
            case 0xfe, 0xff -> (i.reg & 7) <= 1; // INC, DEC; not the indirect calls, jumps and PUSH
            default -> false;
        };
    }
}
