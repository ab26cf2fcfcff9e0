package dev.thaw.emulated.cpu;

/**
 * String instructions (SDM vol. 1, 7.3.9; vol. 2 REP/REPE/REPNE): MOVS, CMPS, STOS, LODS, SCAS, INS and
 * OUTS, with the REP prefixes. Each iteration updates rSI, rDI and rCX (at the address size) before the
 * next one, so a fault in the middle leaves the registers where hardware leaves them and the instruction
 * restarts from there. A long REP yields at an iteration boundary (RIP stays on the instruction) every
 * {@link #CHUNK} iterations or when the vCPU is asked to stop or look at interrupts, as hardware lets
 * interrupts in between iterations.
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
        for (int n = 0; count != 0; n++) {
            if (n == CHUNK || c.owner.wantsBoundary()) {
                c.rip = c.insnStart; // continue later, registers consistent
                return;
            }
            step(c, i, op, size, as, amask, delta);
            count = (count - 1) & amask;
            c.setReg(as, Cpu.RCX, false, count);
            if (compare && Flags.zf(c) != repe) {
                return;
            }
        }
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
