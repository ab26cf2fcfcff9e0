package dev.thaw.emulated.cpu;

/**
 * Port I/O (SDM vol. 1, chapter 19): IN and OUT to the {@link CpuBus}, with the protected-mode permission
 * check: allowed when CPL &lt;= IOPL, else only if the TSS I/O permission bitmap clears every bit of the
 * accessed ports (#GP(0) otherwise). INS and OUTS are in {@link StringOps}.
 */
final class IoOps {

    private IoOps() {}

    /** #GP(0) unless the current privilege may access {@code size} ports from {@code port}. */
    static void checkPermission(Cpu c, int port, int size) {
        if (!c.protectedMode || (c.cpl <= c.iopl() && (c.rflagsOther & Cpu.VM) == 0)) {
            return;
        }
        int trType = c.segAttr[Cpu.TR] & 0xf;
        if ((c.segAttr[Cpu.TR] & Cpu.A_UNUSABLE) != 0 || (trType != 9 && trType != 11)
                || c.segLimit[Cpu.TR] < 103) {
            throw CpuException.gp0();
        }
        long mapBase = c.mmu.readSys(c.segBase[Cpu.TR] + 102, 2);
        long at = mapBase + (port >>> 3);
        if (at + 1 > c.segLimit[Cpu.TR]) {
            throw CpuException.gp0();
        }
        long bits = c.mmu.readSys(c.segBase[Cpu.TR] + at, 2);
        int mask = ((1 << size) - 1) << (port & 7);
        if ((bits & mask) != 0) {
            throw CpuException.gp0();
        }
    }

    /** E4, E5 (imm8) and EC, ED (DX): IN. */
    static void in(Cpu c, Insn i) {
        int size = (i.op & 1) == 0 ? 1 : i.opSize == 2 ? 2 : 4;
        int port = i.op < 0xe8 ? (int) i.imm & 0xff : (int) c.r[Cpu.RDX] & 0xffff;
        checkPermission(c, port, size);
        long v = c.bus.portRead(port, size);
        c.setReg(size, Cpu.RAX, false, v);
    }

    /** E6, E7 (imm8) and EE, EF (DX): OUT. */
    static void out(Cpu c, Insn i) {
        int size = (i.op & 1) == 0 ? 1 : i.opSize == 2 ? 2 : 4;
        int port = i.op < 0xe8 ? (int) i.imm & 0xff : (int) c.r[Cpu.RDX] & 0xffff;
        checkPermission(c, port, size);
        c.bus.portWrite(port, size, c.r[Cpu.RAX] & Cpu.mask(size));
        c.afterDeviceAccess();
    }
}
