package dev.thaw.emulated.diff;

import java.util.Arrays;

/**
 * An x86-64 instruction encoder for the generator: legacy prefixes, REX, opcode, ModRM, SIB,
 * displacement and immediate, from operands the generator chose. It encodes exactly what it is told
 * (including redundant prefixes and optional SIB forms) and refuses combinations the architecture
 * cannot express (a legacy high-byte register beside a REX prefix).
 */
final class Asm {

    /** Byte register codes of the legacy high bytes (encoded 4-7 without REX). 0-15 are AL..R15B. */
    static final int AH = 20, CH = 21, DH = 22, BH = 23;
    /** A {@link Mem} without base or index. */
    static final int NONE = -1;
    /** A {@link Mem} base meaning RIP-relative. */
    static final int RIP = 16;

    static final int ES = 0x26, CS = 0x2e, SS = 0x36, DS = 0x3e, FS = 0x64, GS = 0x65;

    /** A ModRM r/m operand: a register or memory. */
    sealed interface Rm permits Reg, Mem {}

    /** A register operand ({@link #AH}..{@link #BH} allowed where the operand is a byte). */
    record Reg(int code) implements Rm {}

    /**
     * A memory operand as encoded: {@code base} 0-15, {@link #NONE} or {@link #RIP}; {@code index} 0-15
     * except 4, or {@link #NONE}; {@code scale} 1/2/4/8 (encoded even without index, where the CPU
     * ignores it); {@code dispSize} 0, 1 or 4; {@code seg} a segment override prefix or 0;
     * {@code addr32} adds the 67 prefix; {@code forceSib} encodes a SIB byte where none is needed;
     * {@code ripTarget} the address a RIP-relative operand designates (the displacement follows from
     * the instruction's address and length). {@code ea} is the effective linear address the generator
     * computed (for reports).
     */
    record Mem(int base, int index, int scale, int dispSize, long disp, int seg, boolean addr32, boolean forceSib,
            long ripTarget, long ea) implements Rm {

        Mem {
            if (index == 4) {
                throw new IllegalArgumentException("RSP cannot be an index");
            }
            if (base >= 0 && base < 16 && (base & 7) == 5 && dispSize == 0) {
                throw new IllegalArgumentException("RBP/R13 base needs a displacement");
            }
            if ((base == NONE || base == RIP) && dispSize != 4) {
                throw new IllegalArgumentException("no base: disp32 only");
            }
        }

        /** The registers the address reads, as a bit mask. */
        int regMask() {
            int m = 0;
            if (base >= 0 && base < 16) {
                m |= 1 << base;
            }
            if (index >= 0) {
                m |= 1 << index;
            }
            return m;
        }

        boolean needsRex() {
            return (base >= 8 && base < 16) || index >= 8;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            if (seg != 0) {
                b.append(switch (seg) {
                    case ES -> "es:"; case CS -> "cs:"; case SS -> "ss:"; case DS -> "ds:"; case FS -> "fs:";
                    default -> "gs:";
                });
            }
            b.append('[');
            int size = addr32 ? 4 : 8;
            String sep = "";
            if (base == RIP) {
                b.append(addr32 ? "eip" : "rip");
                sep = "+";
            } else if (base >= 0) {
                b.append(Text.reg(size, base));
                sep = "+";
            }
            if (index >= 0) {
                b.append(sep).append(Text.reg(size, index)).append('*').append(scale);
                sep = "+";
            }
            if (base == RIP) {
                b.append("->").append(Text.hex(ripTarget));
            } else if (dispSize > 0 || sep.isEmpty()) {
                b.append(disp < 0 ? "-" : sep).append(Text.hex(Math.abs(disp)));
            }
            return b.append(']').toString();
        }
    }

    private final long address;
    private final byte[] prefixes = new byte[24];
    private final boolean[] optional = new boolean[24];
    private int prefixCount;
    private boolean allowLong;
    private boolean w;
    private boolean forceRex;
    private int extraRex = -1;
    private boolean regByte;
    private boolean rmByte;
    private boolean opRegByte;
    private int[] opcode = new int[0];
    private int opReg = -1;
    private int regField = -1;
    private boolean regFieldIsRegister;
    private Rm rm;
    private long imm;
    private int immSize;
    private long imm2;
    private int imm2Size;

    Asm(long address) {
        this.address = address;
    }

    /** A legacy prefix (66, 67, F0, F2, F3, segment), in the order given. */
    Asm prefix(int p) {
        prefixes[prefixCount++] = (byte) p;
        return this;
    }

    /**
     * A redundant legacy prefix the instruction means the same without: dropped (with a stray REX) if
     * the instruction would otherwise exceed 15 bytes.
     */
    Asm optionalPrefix(int p) {
        optional[prefixCount] = true;
        return prefix(p);
    }

    /** Lets {@link #bytes()} return more than 15 bytes (an instruction that must raise #GP). */
    Asm allowLong() {
        allowLong = true;
        return this;
    }

    /** REX.W. */
    Asm w() {
        w = true;
        return this;
    }

    /** A REX prefix even if no bit is needed (40). */
    Asm rex() {
        forceRex = true;
        return this;
    }

    /**
     * An additional REX prefix right before the real one (if the instruction has one): the CPU uses only
     * the REX immediately before the opcode.
     */
    Asm extraRex(int rexByte) {
        extraRex = rexByte;
        return this;
    }

    /** Register codes 4-7 in every register operand are byte registers (SPL..DIL, needing REX). */
    Asm byteRegs() {
        regByte = rmByte = opRegByte = true;
        return this;
    }

    /** Only the r/m operand is a byte register (MOVZX r32, r/m8). */
    Asm byteRm() {
        rmByte = true;
        return this;
    }

    long address() {
        return address;
    }

    /** The operand-size prefix / REX.W for {@code size} (1 adds nothing: byte opcodes are separate). */
    Asm size(int size) {
        if (size == 2) {
            prefix(0x66);
        } else if (size == 8) {
            w();
        } else if (size == 1) {
            byteRegs();
        }
        return this;
    }

    Asm op(int... bytes) {
        opcode = bytes;
        return this;
    }

    /** An opcode with a register in its low three bits (B8+r, 50+r, 0F C8+r...): the last byte gets it. */
    Asm opReg(int reg, int... bytes) {
        opcode = bytes;
        opReg = reg;
        return this;
    }

    /** ModRM with a register in the reg field. */
    Asm modrm(int reg, Rm operand) {
        regField = reg;
        regFieldIsRegister = true;
        rm = operand;
        return this;
    }

    /** ModRM with an opcode extension (/digit) in the reg field. */
    Asm modrmDigit(int digit, Rm operand) {
        regField = digit;
        regFieldIsRegister = false;
        rm = operand;
        return this;
    }

    Asm imm(long value, int size) {
        if (immSize == 0) {
            imm = value;
            immSize = size;
        } else {
            imm2 = value;
            imm2Size = size;
        }
        return this;
    }

    /** The encoded instruction (without optional prefixes if it would be longer than 15 bytes). */
    byte[] bytes() {
        byte[] b = encode(true);
        if (b.length > 15 && !allowLong) {
            b = encode(false);
        }
        if (b.length > 15 && !allowLong) {
            throw new IllegalArgumentException("instruction longer than 15 bytes: " + Text.hex(b));
        }
        return b;
    }

    private byte[] encode(boolean withOptional) {
        byte[] b = new byte[48];
        int n = 0;
        Mem mem = rm instanceof Mem m ? m : null;
        if (mem != null && mem.seg != 0) {
            b[n++] = (byte) mem.seg;
        }
        if (mem != null && mem.addr32) {
            b[n++] = 0x67;
        }
        for (int i = 0; i < prefixCount; i++) {
            if (withOptional || !optional[i]) {
                b[n++] = prefixes[i];
            }
        }
        int rex = 0;
        boolean high = false;
        boolean lowByteNeedsRex = false;
        if (w) {
            rex |= 8;
        }
        if (regField >= 0 && regFieldIsRegister) {
            if (regField >= AH) {
                high = true;
            } else {
                rex |= (regField >> 3) << 2;
                lowByteNeedsRex |= regByte && regField >= 4 && regField < 8;
            }
        }
        if (rm instanceof Reg r) {
            if (r.code >= AH) {
                high = true;
            } else {
                rex |= r.code >> 3;
                lowByteNeedsRex |= rmByte && r.code >= 4 && r.code < 8;
            }
        } else if (mem != null) {
            if (mem.index >= 8) {
                rex |= 2;
            }
            if (mem.base >= 8 && mem.base < 16) {
                rex |= 1;
            }
        }
        if (opReg >= 0) {
            if (opReg >= AH) {
                high = true;
            } else {
                rex |= opReg >> 3;
                lowByteNeedsRex |= opRegByte && opReg >= 4 && opReg < 8;
            }
        }
        boolean needRex = rex != 0 || forceRex || lowByteNeedsRex;
        if (needRex && high) {
            throw new IllegalArgumentException("AH/CH/DH/BH cannot be encoded with a REX prefix");
        }
        if (needRex) {
            if (extraRex >= 0 && withOptional) {
                b[n++] = (byte) extraRex;
            }
            b[n++] = (byte) (0x40 | rex);
        }
        for (int i = 0; i < opcode.length; i++) {
            int op = opcode[i];
            if (i == opcode.length - 1 && opReg >= 0) {
                op += (opReg >= AH ? opReg - AH + 4 : opReg) & 7;
            }
            b[n++] = (byte) op;
        }
        int dispAt = -1;
        if (rm != null) {
            int reg = regField >= AH ? regField - AH + 4 : regField;
            reg &= 7;
            if (rm instanceof Reg r) {
                int c = r.code >= AH ? r.code - AH + 4 : r.code;
                b[n++] = (byte) (0xc0 | reg << 3 | (c & 7));
            } else {
                int ss = Integer.numberOfTrailingZeros(mem.scale);
                int indexBits = mem.index == NONE ? 4 : mem.index & 7;
                if (mem.base == RIP) {
                    b[n++] = (byte) (reg << 3 | 5);
                } else if (mem.base == NONE) {
                    b[n++] = (byte) (reg << 3 | 4);
                    b[n++] = (byte) (ss << 6 | indexBits << 3 | 5);
                } else {
                    int mod = mem.dispSize == 0 ? 0 : mem.dispSize == 1 ? 1 : 2;
                    boolean sib = mem.index != NONE || (mem.base & 7) == 4 || mem.forceSib;
                    if (sib) {
                        b[n++] = (byte) (mod << 6 | reg << 3 | 4);
                        b[n++] = (byte) (ss << 6 | indexBits << 3 | (mem.base & 7));
                    } else {
                        b[n++] = (byte) (mod << 6 | reg << 3 | (mem.base & 7));
                    }
                }
                dispAt = n;
                for (int i = 0; i < mem.dispSize; i++) {
                    b[n++] = (byte) (mem.disp >> (8 * i));
                }
            }
        }
        for (int i = 0; i < immSize; i++) {
            b[n++] = (byte) (imm >> (8 * i));
        }
        for (int i = 0; i < imm2Size; i++) {
            b[n++] = (byte) (imm2 >> (8 * i));
        }
        if (mem != null && mem.base == RIP) {
            long disp = mem.ripTarget - (address + n);
            if (disp != (int) disp) {
                throw new IllegalArgumentException("RIP-relative target out of reach");
            }
            for (int i = 0; i < 4; i++) {
                b[dispAt + i] = (byte) (disp >> (8 * i));
            }
        }
        return Arrays.copyOf(b, n);
    }
}
