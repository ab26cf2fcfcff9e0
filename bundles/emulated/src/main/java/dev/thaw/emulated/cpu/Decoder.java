package dev.thaw.emulated.cpu;

/**
 * Decodes the instruction at CS:RIP into an {@link Insn} (SDM vol. 2, chapter 2): legacy prefixes, REX,
 * opcode (one, two or three bytes), ModRM, SIB, displacement and immediates, with 16-, 32- and 64-bit
 * operand and address sizes as the mode and prefixes say. Fetches through the MMU at the current
 * privilege (a fetch may fault: #PF, #GP for the CS limit or a non-canonical RIP, or #GP for more than 15
 * bytes).
 */
final class Decoder {

    private final Cpu c;
    private final Mmu mmu;

    /**
     * Decoding ahead of execution (the rest of a {@link Block}): an unimplemented opcode is not counted
     * then, only when it is reached.
     */
    boolean lookahead;

    /** Bytes fetched so far of the instruction being decoded. */
    private int pos;
    private long start;

    Decoder(Cpu c, Mmu mmu) {
        this.c = c;
        this.mmu = mmu;
    }

    private int fetch() {
        if (pos >= 15) {
            throw CpuException.gp0();
        }
        long off = start + pos++;
        if (c.mode64) {
            return mmu.fetch(off);
        }
        off &= c.ipMask();
        if (off > c.segLimit[Cpu.CS]) {
            throw CpuException.gp0();
        }
        return mmu.fetch((c.segBase[Cpu.CS] + off) & 0xffff_ffffL);
    }

    /** Decodes the instruction at {@code c.rip} into {@code i}; {@code c.rip} is left unchanged. */
    void decode(Insn i) {
        start = c.rip;
        pos = 0;
        int prefix = 0;
        int seg = -1;
        int rex = 0;
        boolean mode64 = c.mode64;
        int b;
        while (true) {
            b = fetch();
            switch (b) {
                case 0xf0 -> prefix |= Insn.P_LOCK;
                case 0xf2 -> prefix = (prefix & ~Insn.P_REP) | Insn.P_REPNE;
                case 0xf3 -> prefix = (prefix & ~Insn.P_REPNE) | Insn.P_REP;
                case 0x66 -> prefix |= Insn.P_OPSIZE;
                case 0x67 -> prefix |= Insn.P_ADDRSIZE;
                case 0x26 -> seg = Cpu.ES;
                case 0x2e -> seg = Cpu.CS;
                case 0x36 -> seg = Cpu.SS;
                case 0x3e -> seg = Cpu.DS;
                case 0x64 -> seg = Cpu.FS;
                case 0x65 -> seg = Cpu.GS;
                default -> {
                    if (mode64 && (b & 0xf0) == 0x40) {
                        rex = b; // effective only if the opcode follows
                        b = fetch();
                        if ((b & 0xf0) == 0x40 || isPrefix(b)) {
                            // REX followed by a prefix is ignored; keep looking
                            pos--;
                            rex = 0;
                            continue;
                        }
                    }
                    decodeRest(i, b, prefix, seg, rex);
                    return;
                }
            }
        }
    }

    private static boolean isPrefix(int b) {
        return switch (b) {
            case 0xf0, 0xf2, 0xf3, 0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 -> true;
            default -> false;
        };
    }

    private void decodeRest(Insn i, int b, int prefix, int seg, int rex) {
        boolean mode64 = c.mode64;
        int op = b;
        if (b == 0x0f) {
            int b2 = fetch();
            if (b2 == 0x38) {
                op = 0x200 | fetch();
            } else if (b2 == 0x3a) {
                op = 0x300 | fetch();
            } else {
                op = 0x100 | b2;
            }
        }
        int attr = OpcodeTable.ATTR[op];
        i.op = op;
        i.prefix = prefix;
        i.rex = rex;
        i.hasRex = rex != 0;
        if (mode64 && (attr & OpcodeTable.I64) != 0) {
            if (op == 0xc4 || op == 0xc5 || op == 0x62) {
                i.len = pos;
                if (!lookahead) {
                    c.owner.unimplemented(i); // VEX or EVEX: AVX and friends are not implemented (counted #UD)
                }
            }
            throw CpuException.ud();
        }
        boolean o16 = (prefix & Insn.P_OPSIZE) != 0;
        int opSize;
        int addrSize;
        if (mode64) {
            if ((rex & 8) != 0 || (attr & OpcodeTable.F64) != 0) {
                opSize = 8;
            } else if ((attr & OpcodeTable.D64) != 0) {
                opSize = o16 ? 2 : 8;
            } else {
                opSize = o16 ? 2 : 4;
            }
            addrSize = (prefix & Insn.P_ADDRSIZE) != 0 ? 4 : 8;
        } else {
            opSize = o16 ? 6 - c.codeSize : c.codeSize;
            addrSize = (prefix & Insn.P_ADDRSIZE) != 0 ? 6 - c.codeSize : c.codeSize;
        }
        i.opSize = opSize;
        i.addrSize = addrSize;
        i.segOverride = seg >= 0;
        i.seg = seg >= 0 ? seg : Cpu.DS;
        i.base = -1;
        i.index = -1;
        i.scale = 0;
        i.disp = 0;
        i.imm = 0;
        i.imm2 = 0;
        if ((attr & OpcodeTable.M) != 0) {
            i.hasModrm = true;
            modrm(i, rex, seg, addrSize);
            if ((prefix & Insn.P_LOCK) != 0 && (i.mod == 3 || !OpcodeTable.lockable(op, i.reg))) {
                throw CpuException.ud();
            }
        } else {
            i.hasModrm = false;
            i.mod = 3;
            i.reg = 0;
            i.rm = 0;
            if ((prefix & Insn.P_LOCK) != 0) {
                throw CpuException.ud();
            }
        }
        switch (attr & OpcodeTable.IMM_MASK) {
            case OpcodeTable.I_B -> i.imm = (byte) fetch();
            case OpcodeTable.I_W -> i.imm = fetch16();
            case OpcodeTable.I_Z -> i.imm = opSize == 2 ? (short) fetch16() : (int) fetch32();
            case OpcodeTable.I_V -> i.imm = opSize == 2 ? fetch16() : opSize == 4 ? fetch32() : fetch64();
            case OpcodeTable.I_WB -> {
                i.imm = fetch16();
                i.imm2 = fetch();
            }
            case OpcodeTable.I_P -> {
                i.imm = opSize == 2 ? fetch16() : fetch32();
                i.imm2 = fetch16();
            }
            case OpcodeTable.I_MOFFS -> {
                i.mod = 0;
                i.disp = addrSize == 2 ? fetch16() : addrSize == 4 ? fetch32() : fetch64();
            }
            case OpcodeTable.I_GRP3 -> {
                if ((i.reg & 7) < 2) {
                    i.imm = op == 0xf6 ? (byte) fetch() : opSize == 2 ? (short) fetch16() : (int) fetch32();
                }
            }
            default -> {
            }
        }
        i.len = pos;
        i.form = RegisterForms.classify(i);
    }

    private long fetch16() {
        return fetch() | (fetch() << 8);
    }

    private long fetch32() {
        return fetch16() | (fetch16() << 16);
    }

    private long fetch64() {
        return fetch32() | (fetch32() << 32);
    }

    private void modrm(Insn i, int rex, int seg, int addrSize) {
        int m = fetch();
        int mod = (i.op & ~3) == 0x120 ? 3 : m >>> 6; // MOV to/from CR/DR: always a register
        i.mod = mod;
        i.reg = ((m >>> 3) & 7) | ((rex & 4) << 1);
        int rm = m & 7;
        if (mod == 3) {
            i.rm = rm | ((rex & 1) << 3);
            return;
        }
        i.rm = rm;
        int defSeg = Cpu.DS;
        if (addrSize == 2) {
            switch (rm) {
                case 0 -> set16(i, Cpu.RBX, Cpu.RSI);
                case 1 -> set16(i, Cpu.RBX, Cpu.RDI);
                case 2 -> {
                    set16(i, Cpu.RBP, Cpu.RSI);
                    defSeg = Cpu.SS;
                }
                case 3 -> {
                    set16(i, Cpu.RBP, Cpu.RDI);
                    defSeg = Cpu.SS;
                }
                case 4 -> set16(i, Cpu.RSI, -1);
                case 5 -> set16(i, Cpu.RDI, -1);
                case 6 -> {
                    if (mod == 0) {
                        set16(i, -1, -1);
                    } else {
                        set16(i, Cpu.RBP, -1);
                        defSeg = Cpu.SS;
                    }
                }
                default -> set16(i, Cpu.RBX, -1);
            }
            if (mod == 0 && rm == 6) {
                i.disp = fetch16();
            } else if (mod == 1) {
                i.disp = (byte) fetch();
            } else if (mod == 2) {
                i.disp = (short) fetch16();
            } else {
                i.disp = 0;
            }
        } else {
            int base;
            int index = -1;
            int scale = 0;
            boolean disp32 = mod == 2;
            if (rm == 4) {
                int sib = fetch();
                scale = sib >>> 6;
                index = ((sib >>> 3) & 7) | ((rex & 2) << 2);
                if (index == 4) {
                    index = -1;
                }
                base = (sib & 7) | ((rex & 1) << 3);
                if ((sib & 7) == 5 && mod == 0) {
                    base = -1;
                    disp32 = true;
                }
            } else if (rm == 5 && mod == 0) {
                base = c.mode64 ? Cpu.RIP_BASE : -1;
                disp32 = true;
            } else {
                base = rm | ((rex & 1) << 3);
            }
            if (base == Cpu.RSP || base == Cpu.RBP) {
                defSeg = Cpu.SS;
            }
            i.base = base;
            i.index = index;
            i.scale = scale;
            if (disp32) {
                i.disp = (int) fetch32();
            } else if (mod == 1) {
                i.disp = (byte) fetch();
            } else {
                i.disp = 0;
            }
        }
        if (seg < 0) {
            i.seg = defSeg;
        }
    }

    private static void set16(Insn i, int base, int index) {
        i.base = base;
        i.index = index;
        i.scale = 0;
    }
}
