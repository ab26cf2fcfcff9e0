package dev.thaw.emulated.cpu;

/**
 * One decoded instruction: everything execution needs, so that executing never looks at the instruction
 * bytes again. Mutable and reused (no allocation per instruction).
 */
final class Insn {

    // prefix bits
    static final int P_LOCK = 1, P_REP = 2, P_REPNE = 4, P_OPSIZE = 8, P_ADDRSIZE = 16;

    /** Opcode: 0x000-0x0ff one byte, 0x100-0x1ff after 0F, 0x200-0x2ff after 0F 38, 0x300-0x3ff after 0F 3A. */
    int op;
    /** Length in bytes. */
    int len;
    /** Legacy prefixes ({@code P_*}). */
    int prefix;
    /** REX byte (0x40-0x4f) or 0. */
    int rex;
    boolean hasRex;
    /** Operand size for "v"-sized operands: 2, 4 or 8 (after 66, REX.W and the 64-bit defaults). */
    int opSize;
    /** Address size: 2, 4 or 8. */
    int addrSize;

    // ModRM
    boolean hasModrm;
    int mod;
    /** ModRM.reg with REX.R (also the group selector: use {@code reg & 7}). */
    int reg;
    /** ModRM.rm with REX.B when {@code mod == 3}. */
    int rm;

    // memory operand (mod != 3)
    /** Effective segment: the override, or the default for the base register. */
    int seg;
    boolean segOverride;
    /** Base register, {@link Cpu#RIP_BASE}, or -1. */
    int base;
    /** Index register or -1. */
    int index;
    int scale;
    long disp;

    /** First immediate (sign-extended for Ib and Iz, zero-extended for Iw and Iv). */
    long imm;
    /** Second immediate: ENTER's nesting level, a far pointer's selector. */
    long imm2;

    // ---- RegisterForms: the form, when it is one of the common ones, and its operands ----
    /** {@link RegisterForms#NONE} or the form. */
    int form;
    /** The destination and source registers of a register form. */
    int dst, src;
    /** The operation of an arithmetic or shift form (the group's ModRM.reg or the primary opcode's row). */
    int aluOp;

    boolean isMem() {
        return mod != 3;
    }

    boolean lock() {
        return (prefix & P_LOCK) != 0;
    }

    boolean rep() {
        return (prefix & (P_REP | P_REPNE)) != 0;
    }
}
