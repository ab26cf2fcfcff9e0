package dev.thaw.emulated.cpu;

/**
 * Operand access: effective addresses, segmentation (limit and type checks outside 64-bit mode, FS/GS
 * bases and canonical addresses in it), register and r/m operands by size, and the stack.
 */
final class Operands {

    private Operands() {}

    // ---- effective and linear addresses ----

    /** The effective address (offset within the segment) of the memory operand of {@code i}. */
    static long ea(Cpu c, Insn i) {
        long a = i.disp;
        int b = i.base;
        if (b >= 0) {
            a += b == Cpu.RIP_BASE ? c.rip : c.r[b];
        }
        if (i.index >= 0) {
            a += c.r[i.index] << i.scale;
        }
        int as = i.addrSize;
        return as == 8 ? a : as == 4 ? a & 0xffff_ffffL : a & 0xffff;
    }

    /** The linear address of {@code size} bytes at offset {@code off} of segment {@code seg}, checked. */
    static long linear(Cpu c, int seg, long off, int size, boolean write) {
        if (c.mode64) {
            return seg >= Cpu.FS ? c.segBase[seg] + off : off;
        }
        return legacyLinear(c, seg, off, size, write);
    }

    private static long legacyLinear(Cpu c, int seg, long off, int size, boolean write) {
        int attr = c.segAttr[seg];
        if (c.protectedMode && (c.rflagsOther & Cpu.VM) == 0) {
            if ((attr & Cpu.A_UNUSABLE) != 0) {
                throw fault(seg);
            }
            int type = attr & Cpu.A_TYPE;
            if (write ? (type & 0xa) != 2 : (type & 0xa) == 8) {
                // write: only writable data; read: not execute-only code
                throw fault(seg);
            }
            long last = off + size - 1;
            if ((type & 0xc) == 4) {
                // expand-down data: valid offsets are (limit, top]
                long top = (attr & Cpu.A_DB) != 0 ? 0xffff_ffffL : 0xffff;
                if (off <= c.segLimit[seg] || last > top) {
                    throw fault(seg);
                }
            } else if (last > c.segLimit[seg]) {
                throw fault(seg);
            }
        } else if (off + size - 1 > c.segLimit[seg]) {
            throw fault(seg);
        }
        return (c.segBase[seg] + off) & 0xffff_ffffL;
    }

    private static CpuException fault(int seg) {
        return seg == Cpu.SS ? CpuException.ss(0) : CpuException.gp0();
    }

    /** Linear address of the memory operand of {@code i}. */
    static long lin(Cpu c, Insn i, int size, boolean write) {
        return linear(c, i.seg, ea(c, i), size, write);
    }

    // ---- memory by segment and offset ----

    static long readMem(Cpu c, int seg, long off, int size) {
        return c.mmu.read(linear(c, seg, off, size, false), size, seg);
    }

    static void writeMem(Cpu c, int seg, long off, int size, long v) {
        c.mmu.write(linear(c, seg, off, size, true), size, v, seg);
    }

    // ---- register and r/m operands ----

    static long readReg(Cpu c, Insn i, int size) {
        return c.reg(size, i.reg, i.hasRex);
    }

    static void writeReg(Cpu c, Insn i, int size, long v) {
        c.setReg(size, i.reg, i.hasRex, v);
    }

    static long readRm(Cpu c, Insn i, int size) {
        if (i.mod == 3) {
            return c.reg(size, i.rm, i.hasRex);
        }
        return c.mmu.read(lin(c, i, size, false), size, i.seg);
    }

    static void writeRm(Cpu c, Insn i, int size, long v) {
        if (i.mod == 3) {
            c.setReg(size, i.rm, i.hasRex, v);
        } else {
            c.mmu.write(lin(c, i, size, true), size, v, i.seg);
        }
    }

    /** Reads the r/m operand for a read-modify-write: a memory operand is checked for writing first. */
    static long rmwRead(Cpu c, Insn i, int size) {
        if (i.mod == 3) {
            return c.reg(size, i.rm, i.hasRex);
        }
        return c.mmu.rmwRead(lin(c, i, size, true), size, i.seg);
    }

    /** Completes the read-modify-write begun by {@link #rmwRead} (cannot fault). */
    static void rmwWrite(Cpu c, Insn i, int size, long v) {
        if (i.mod == 3) {
            c.setReg(size, i.rm, i.hasRex, v);
        } else {
            c.mmu.rmwWrite(v, size);
        }
    }

    // ---- stack ----

    static long stackMask(Cpu c) {
        int s = c.stackSize;
        return s == 8 ? -1L : s == 4 ? 0xffff_ffffL : 0xffff;
    }

    /** RSP with {@code v} as the new stack pointer, honoring the stack size. */
    static void setSp(Cpu c, long v) {
        int s = c.stackSize;
        if (s == 8) {
            c.r[Cpu.RSP] = v;
        } else if (s == 4) {
            c.r[Cpu.RSP] = v & 0xffff_ffffL;
        } else {
            c.r[Cpu.RSP] = (c.r[Cpu.RSP] & ~0xffffL) | (v & 0xffff);
        }
    }

    static void push(Cpu c, int size, long v) {
        long sp = (c.r[Cpu.RSP] - size) & stackMask(c);
        writeMem(c, Cpu.SS, sp, size, v);
        setSp(c, sp);
    }

    static long pop(Cpu c, int size) {
        long sp = c.r[Cpu.RSP] & stackMask(c);
        long v = readMem(c, Cpu.SS, sp, size);
        setSp(c, sp + size);
        return v;
    }

    /** Reads the stack at RSP + {@code offset} without popping. */
    static long peek(Cpu c, int size, long offset) {
        return readMem(c, Cpu.SS, (c.r[Cpu.RSP] + offset) & stackMask(c), size);
    }
}
