package dev.thaw.emulated.cpu;

/**
 * Decoding attributes per opcode (SDM vol. 2, appendix A): whether a ModRM byte follows, which immediate,
 * the 64-bit mode operand size defaults, and opcodes invalid in 64-bit mode. Execution semantics are not
 * here: {@link Executor} dispatches on the opcode.
 */
final class OpcodeTable {

    // immediate kinds (low 4 bits)
    static final int I_NONE = 0, I_B = 1, I_W = 2, I_Z = 3, I_V = 4, I_WB = 5, I_P = 6, I_MOFFS = 7, I_GRP3 = 8;
    static final int IMM_MASK = 0xf;
    static final int M = 0x10; // ModRM follows
    static final int D64 = 0x20; // 64-bit operand size by default in 64-bit mode (66 gives 16)
    static final int F64 = 0x40; // 64-bit operand size in 64-bit mode, whatever the prefixes
    static final int I64 = 0x80; // invalid in 64-bit mode

    /** Attributes of opcodes 0x000-0x3ff (see {@link Insn#op}). */
    static final short[] ATTR = new short[0x400];

    private static void set(int from, int to, int attr) {
        for (int op = from; op <= to; op++) {
            ATTR[op] = (short) attr;
        }
    }

    static {
        // ---- one-byte map ----
        for (int row = 0; row < 0x40; row += 8) {
            set(row, row + 3, M);
            set(row + 4, row + 4, I_B);
            set(row + 5, row + 5, I_Z);
        }
        set(0x06, 0x07, I64);
        set(0x0e, 0x0e, I64);
        set(0x16, 0x17, I64);
        set(0x1e, 0x1f, I64);
        set(0x27, 0x27, I64);
        set(0x2f, 0x2f, I64);
        set(0x37, 0x37, I64);
        set(0x3f, 0x3f, I64);
        set(0x50, 0x5f, D64);
        set(0x60, 0x61, I64);
        set(0x62, 0x62, M | I64);
        set(0x63, 0x63, M);
        set(0x68, 0x68, I_Z | D64);
        set(0x69, 0x69, M | I_Z);
        set(0x6a, 0x6a, I_B | D64);
        set(0x6b, 0x6b, M | I_B);
        set(0x70, 0x7f, I_B | F64);
        set(0x80, 0x80, M | I_B);
        set(0x81, 0x81, M | I_Z);
        set(0x82, 0x82, M | I_B | I64);
        set(0x83, 0x83, M | I_B);
        set(0x84, 0x8e, M);
        set(0x8f, 0x8f, M | D64);
        set(0x9a, 0x9a, I_P | I64);
        set(0x9c, 0x9d, D64);
        set(0xa0, 0xa3, I_MOFFS);
        set(0xa8, 0xa8, I_B);
        set(0xa9, 0xa9, I_Z);
        set(0xb0, 0xb7, I_B);
        set(0xb8, 0xbf, I_V);
        set(0xc0, 0xc1, M | I_B);
        set(0xc2, 0xc2, I_W | F64);
        set(0xc3, 0xc3, F64);
        set(0xc4, 0xc5, M | I64);
        set(0xc6, 0xc6, M | I_B);
        set(0xc7, 0xc7, M | I_Z);
        set(0xc8, 0xc8, I_WB | D64);
        set(0xc9, 0xc9, D64);
        set(0xca, 0xca, I_W);
        set(0xcd, 0xcd, I_B);
        set(0xce, 0xce, I64);
        set(0xd0, 0xd3, M);
        set(0xd4, 0xd5, I_B | I64);
        set(0xd6, 0xd6, I64);
        set(0xd8, 0xdf, M);
        set(0xe0, 0xe3, I_B | F64);
        set(0xe4, 0xe7, I_B);
        set(0xe8, 0xe9, I_Z | F64);
        set(0xea, 0xea, I_P | I64);
        set(0xeb, 0xeb, I_B | F64);
        set(0xf6, 0xf7, M | I_GRP3);
        set(0xfe, 0xff, M);

        // ---- two-byte map (0F xx) ----
        set(0x100, 0x103, M);
        set(0x10d, 0x10d, M);
        set(0x110, 0x117, M);
        set(0x118, 0x11f, M);
        set(0x120, 0x123, M);
        set(0x128, 0x12f, M);
        set(0x140, 0x14f, M);
        set(0x150, 0x17f, M);
        set(0x170, 0x173, M | I_B);
        set(0x180, 0x18f, I_Z | F64);
        set(0x190, 0x19f, M);
        set(0x1a0, 0x1a1, D64);
        set(0x1a3, 0x1a3, M);
        set(0x1a4, 0x1a4, M | I_B);
        set(0x1a5, 0x1a5, M);
        set(0x1a8, 0x1a9, D64);
        set(0x1ab, 0x1ab, M);
        set(0x1ac, 0x1ac, M | I_B);
        set(0x1ad, 0x1af, M);
        set(0x1b0, 0x1b9, M);
        set(0x1ba, 0x1ba, M | I_B);
        set(0x1bb, 0x1bf, M);
        set(0x1c0, 0x1c7, M);
        set(0x1c2, 0x1c2, M | I_B);
        set(0x1c4, 0x1c6, M | I_B);
        set(0x1d0, 0x1ff, M);

        // ---- three-byte maps: every opcode has ModRM; 0F 3A ones an Ib ----
        set(0x200, 0x2ff, M);
        set(0x300, 0x3ff, M | I_B);
    }

    private OpcodeTable() {}

    /**
     * Whether a LOCK prefix is allowed on {@code op} with ModRM.reg {@code reg} (the destination must also
     * be memory): the read-modify-write instructions of SDM vol. 2 "LOCK".
     */
    static boolean lockable(int op, int reg) {
        if (op < 0x38) {
            return (op & 7) <= 1 && (op & 0x38) != 0x38;
        }
        switch (op) {
            case 0x80, 0x81, 0x83:
                return (reg & 7) != 7;
            case 0x86, 0x87:
                return true;
            case 0xf6, 0xf7:
                return (reg & 7) == 2 || (reg & 7) == 3;
            case 0xfe, 0xff:
                return (reg & 7) <= 1;
            case 0x1ab, 0x1b3, 0x1bb, 0x1b0, 0x1b1, 0x1c0, 0x1c1:
                return true;
            case 0x1ba:
                return (reg & 7) >= 5;
            case 0x1c7:
                return (reg & 7) == 1;
            default:
                return false;
        }
    }
}
