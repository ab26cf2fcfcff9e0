package dev.thaw.emulated.cpu;

import java.lang.foreign.MemorySegment;

/**
 * String instructions (SDM vol. 1, 7.3.9; vol. 2 REP/REPE/REPNE): MOVS, CMPS, STOS, LODS, SCAS, INS and
 * OUTS, with the REP prefixes. Each iteration updates rSI, rDI and rCX (at the address size) before the
 * next one, so a fault in the middle leaves the registers where hardware leaves them and the instruction
 * restarts from there. A long REP yields at an iteration boundary (RIP stays on the instruction) every
 * {@link #CHUNK} iterations or when the vCPU is asked to stop or look at interrupts, as hardware lets
 * interrupts in between iterations. In 64-bit mode with DF=0, REP STOS and REP MOVS store or copy up to a
 * page at a time (as fast-string hardware does, without ordering among the stores of one run).
 */
final class StringOps {

    static final int CHUNK = 4096;

    private StringOps() {}

    /** A4-A7, AA-AF, 6C-6F. */
    static void execute(Cpu c, Insn i) {
        int op = i.op;
        boolean io = op < 0x70;
        int size = (op & 1) == 0 ? 1 : io && i.opSize == 8 ? 4 : i.opSize;
        int as = i.addrSize;
        long amask = Cpu.mask(as);
        long delta = (c.rflagsOther & Cpu.DF) != 0 ? -size : size;
        boolean compare = op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf;
        if (io) {
            IoOps.checkPermission(c, (int) c.r[Cpu.RDX] & 0xffff, size);
        }
        if (!i.rep()) {
            step(c, i, op, size, as, amask, delta);
            return;
        }
        boolean repe = (i.prefix & Insn.P_REP) != 0;
        long count = c.r[Cpu.RCX] & amask;
        boolean bulk = c.mode64 && as == 8 && delta > 0 && (op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab);
        for (int n = 0; count != 0; n++) {
            if (n >= CHUNK || c.owner.wantsBoundary()) {
                c.rip = c.insnStart; // continue later, registers consistent
                return;
            }
            if (bulk) {
                long done = op >= 0xaa ? bulkStos(c, size, Math.min(count, CHUNK)) : bulkMovs(c, i, size,
                        Math.min(count, CHUNK));
                if (done > 0) {
                    count -= done;
                    c.r[Cpu.RCX] = count;
                    n += (int) done - 1;
                    continue;
                }
            }
            step(c, i, op, size, as, amask, delta);
            count = (count - 1) & amask;
            c.setReg(as, Cpu.RCX, false, count);
            if (compare && Flags.zf(c) != repe) {
                return;
            }
        }
    }

    // ---- bulk REP STOS / REP MOVS: 64-bit mode, DF=0, up to the end of a page at a time ----

    /** Stores up to {@code max} elements within RDI's page at once; 0 if the first one needs a step. */
    private static long bulkStos(Cpu c, int size, long max) {
        long di = c.r[Cpu.RDI];
        if ((di & (size - 1)) != 0 || ((di << 16) >> 16) != di) {
            return 0;
        }
        long n = Math.min(max, (4096 - (di & 0xfff)) / size);
        int t = c.mmu.translate(di, PageWalker.WRITE, c.userBit);
        if (t < 0) {
            return 0;
        }
        MemorySegment s = c.mmu.hseg[t];
        long off = c.mmu.hoff[t] + (di & 0xfff);
        long v = c.r[Cpu.RAX];
        switch (size) {
            case 1 -> s.asSlice(off, n).fill((byte) v);
            case 2 -> {
                for (long k = 0; k < n; k++) {
                    s.set(PhysicalMemory.S_U, off + 2 * k, (short) v);
                }
            }
            case 4 -> {
                for (long k = 0; k < n; k++) {
                    s.set(PhysicalMemory.I_U, off + 4 * k, (int) v);
                }
            }
            default -> {
                for (long k = 0; k < n; k++) {
                    s.set(PhysicalMemory.L_U, off + 8 * k, v);
                }
            }
        }
        c.r[Cpu.RDI] = di + n * size;
        return n;
    }

    /** Copies up to {@code max} elements within RSI's and RDI's pages at once; 0 if that needs steps. */
    private static long bulkMovs(Cpu c, Insn i, int size, long max) {
        long si = c.r[Cpu.RSI];
        long di = c.r[Cpu.RDI];
        long src = i.seg >= Cpu.FS ? c.segBase[i.seg] + si : si;
        if (((src << 16) >> 16) != src || ((di << 16) >> 16) != di) {
            return 0;
        }
        long n = Math.min(max, Math.min((4096 - (src & 0xfff)) / size, (4096 - (di & 0xfff)) / size));
        if (n == 0) {
            return 0;
        }
        int ts = c.mmu.translate(src, PageWalker.READ, c.userBit);
        if (ts < 0) {
            return 0;
        }
        MemorySegment ss = c.mmu.hseg[ts];
        long so = c.mmu.hoff[ts] + (src & 0xfff);
        int td = c.mmu.translate(di, PageWalker.WRITE, c.userBit);
        if (td < 0) {
            return 0;
        }
        MemorySegment ds = c.mmu.hseg[td];
        long dOff = c.mmu.hoff[td] + (di & 0xfff);
        long bytes = n * size;
        if (ss == ds && dOff > so && dOff < so + bytes) {
            return 0; // overlapping forward copy repeats the pattern: element by element
        }
        MemorySegment.copy(ss, so, ds, dOff, bytes);
        c.r[Cpu.RSI] = si + bytes;
        c.r[Cpu.RDI] = di + bytes;
        return n;
    }

    private static void step(Cpu c, Insn i, int op, int size, int as, long amask, long delta) {
        long si = c.r[Cpu.RSI] & amask;
        long di = c.r[Cpu.RDI] & amask;
        switch (op) {
            case 0xa4, 0xa5 -> {
                long v = Operands.readMem(c, i.seg, si, size);
                Operands.writeMem(c, Cpu.ES, di, size, v);
                c.setReg(as, Cpu.RSI, false, si + delta);
                c.setReg(as, Cpu.RDI, false, di + delta);
            }
            case 0xa6, 0xa7 -> {
                long a = Operands.readMem(c, i.seg, si, size);
                long b = Operands.readMem(c, Cpu.ES, di, size);
                Arith.compute(c, Arith.CMP, a, b, size);
                c.setReg(as, Cpu.RSI, false, si + delta);
                c.setReg(as, Cpu.RDI, false, di + delta);
            }
            case 0xaa, 0xab -> {
                Operands.writeMem(c, Cpu.ES, di, size, c.r[Cpu.RAX]);
                c.setReg(as, Cpu.RDI, false, di + delta);
            }
            case 0xac, 0xad -> {
                long v = Operands.readMem(c, i.seg, si, size);
                c.setReg(size, Cpu.RAX, false, v);
                c.setReg(as, Cpu.RSI, false, si + delta);
            }
            case 0xae, 0xaf -> {
                long b = Operands.readMem(c, Cpu.ES, di, size);
                Arith.compute(c, Arith.CMP, c.reg(size, Cpu.RAX, false), b, size);
                c.setReg(as, Cpu.RDI, false, di + delta);
            }
            case 0x6c, 0x6d -> {
                // the destination is checked before the port is read
                long lin = Operands.linear(c, Cpu.ES, di, size, true);
                c.mmu.translate(lin, PageWalker.WRITE, c.userBit);
                long v = c.bus.portRead((int) c.r[Cpu.RDX] & 0xffff, size);
                c.mmu.write(lin, size, v, Cpu.ES);
                c.setReg(as, Cpu.RDI, false, di + delta);
            }
            default -> { // 6E, 6F
                long v = Operands.readMem(c, i.seg, si, size);
                c.bus.portWrite((int) c.r[Cpu.RDX] & 0xffff, size, v);
                c.afterDeviceAccess();
                c.setReg(as, Cpu.RSI, false, si + delta);
            }
        }
    }
}
