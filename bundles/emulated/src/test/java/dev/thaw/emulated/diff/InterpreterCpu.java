package dev.thaw.emulated.diff;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.emulated.cpu.CpuBus;
import dev.thaw.emulated.cpu.FlatLongMode;
import dev.thaw.emulated.cpu.Interpreter;
import dev.thaw.emulated.cpu.InterruptSource;
import dev.thaw.emulated.cpu.PhysicalMemory;
import dev.thaw.emulated.cpu.StopReason;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Thaw's interpreter as a {@link CpuUnderTest}: 64-bit mode with flat segments at CPL 3 (or 0) over
 * identity-mapped RAM ({@link FlatLongMode}; its page tables live at 0x1000, in the adapter's part of
 * {@link GuestLayout}), exceptions reported ({@code Options.reportExceptions}) instead of delivered.
 * Its CPUID is the interpreter's own table plus BMI1, so that F3 0F BC is TZCNT as on the oracle
 * (Unicorn's qemu64 model reports BMI1 and LZCNT; the interpreter's table reports LZCNT, POPCNT, MOVBE
 * and CMPXCHG16B already).
 */
final class InterpreterCpu implements CpuUnderTest {

    private static final long PAGE_TABLES = 0x1000;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    private final Interpreter cpu;
    private final int cpl;
    /** The last imported interpreter state: everything but the registers this test sets stays as is. */
    private dev.thaw.emulated.cpu.CpuState base;
    private String busAccess;

    InterpreterCpu(int cpl) {
        this.cpl = cpl;
        memory = arena.allocate(GuestLayout.RAM_SIZE, 4096);
        // plain memory from an arena is always present: nothing to touch first
        PhysicalMemory ram = new PhysicalMemory(
                List.of(new PhysicalMemory.RamRegion(0, GuestLayout.RAM_SIZE, memory, memory.address())), (a, w) -> {});
        cpu = new Interpreter(ram, new Bus(), new NoInterrupts(), 0, new Interpreter.Options(1, true));
        long cr3 = FlatLongMode.identityMap(ram, PAGE_TABLES, GuestLayout.RAM_SIZE);
        FlatLongMode.enter(cpu, cpl, cr3, GuestLayout.CODE, GuestLayout.STACK + GuestLayout.STACK_SIZE / 2);
        dev.thaw.emulated.cpu.CpuState s = cpu.exportState();
        List<CpuidEntry> cpuid = new ArrayList<>();
        for (CpuidEntry e : s.cpuid()) {
            cpuid.add(e.function() == 7 && e.index() == 0
                    ? new CpuidEntry(7, 0, e.flags(), e.eax(), e.ebx() | 1L << 3, e.ecx(), e.edx()) : e);
        }
        base = new dev.thaw.emulated.cpu.CpuState(cpuid, s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(),
                s.debugRegs(), s.msrs(), s.events());
        cpu.importState(base);
    }

    @Override
    public String name() {
        return "interpreter (CPL " + cpl + ")";
    }

    @Override
    public MemorySegment memory() {
        return memory;
    }

    @Override
    public void reset(CpuState state) {
        setState(state);
    }

    @Override
    public void setState(CpuState s) {
        long[] g = s.gprs();
        Regs regs = new Regs(g[0], g[3], g[1], g[2], g[6], g[7], g[4], g[5], g[8], g[9], g[10], g[11], g[12], g[13],
                g[14], g[15], s.rip(), s.rflags());
        Sregs o = base.sregs();
        Sregs sregs = new Sregs(o.cs(), o.ds(), o.es(), withBase(o.fs(), s.fsBase()), withBase(o.gs(), s.gsBase()),
                o.ss(), o.tr(), o.ldt(), o.gdt(), o.idt(), o.cr0(), o.cr2(), o.cr3(), o.cr4(), o.cr8(), o.efer(),
                o.apicBase(), o.interruptBitmap());
        base = new dev.thaw.emulated.cpu.CpuState(base.cpuid(), base.mpState(), regs, sregs, base.xsave(),
                base.xcrs(), base.debugRegs(), base.msrs(), base.events());
        cpu.importState(base);
    }

    private static Segment withBase(Segment s, long newBase) {
        return new Segment(newBase, s.limit(), s.selector(), s.type(), s.present(), s.dpl(), s.db(), s.s(), s.l(),
                s.g(), s.avl(), s.unusable());
    }

    @Override
    public CpuState state() {
        dev.thaw.emulated.cpu.CpuState s = cpu.exportState();
        Regs r = s.regs();
        long[] g = {r.rax(), r.rcx(), r.rdx(), r.rbx(), r.rsp(), r.rbp(), r.rsi(), r.rdi(), r.r8(), r.r9(), r.r10(),
            r.r11(), r.r12(), r.r13(), r.r14(), r.r15()};
        return new CpuState(g, r.rip(), r.rflags(), s.sregs().fs().base(), s.sregs().gs().base());
    }

    @Override
    public void codeWritten(long address, int length) {
        // the interpreter fetches through a page pointer into this memory: it sees the new bytes
    }

    /**
     * One instruction: {@code run(1)}, again while a REP string instruction yields between chunks of
     * iterations (RIP still on it; the generator never makes an instruction that jumps to itself).
     */
    @Override
    public Outcome step(StepHint hint) {
        busAccess = null;
        long start = cpu.exportState().regs().rip();
        for (int chunk = 0; chunk < 100_000; chunk++) {
            StopReason r = cpu.run(1);
            if (busAccess != null) {
                return Outcome.other(busAccess);
            }
            switch (r.kind()) {
                case BUDGET -> {
                    if (cpu.exportState().regs().rip() != start) {
                        return Outcome.RETIRED;
                    }
                }
                case EXCEPTION -> {
                    return Outcome.exception(r.vector());
                }
                default -> {
                    return Outcome.other(r.kind() + (r.reason() != null ? ": " + r.reason() : "")
                            + (cpu.lastUnimplemented() != null ? " (last unimplemented: " + cpu.lastUnimplemented()
                                    + ")" : ""));
                }
            }
        }
        return Outcome.other("RIP stayed at " + Text.hex(start) + " for 100000 steps");
    }

    /** Whether the last #UD came from an opcode the interpreter does not implement. */
    String lastUnimplemented() {
        return cpu.lastUnimplemented();
    }

    long unimplementedCount() {
        return cpu.unimplementedCount();
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Every generated access is RAM: a port or MMIO access is a bug the step reports. */
    private final class Bus implements CpuBus {
        @Override
        public long portRead(int port, int size) {
            busAccess = "port read 0x" + Integer.toHexString(port) + "/" + size;
            return 0;
        }

        @Override
        public void portWrite(int port, int size, long value) {
            busAccess = "port write 0x" + Integer.toHexString(port) + "/" + size;
        }

        @Override
        public long mmioRead(long address, int size) {
            busAccess = "MMIO read " + Text.hex(address) + "/" + size;
            return 0;
        }

        @Override
        public void mmioWrite(long address, int size, long value) {
            busAccess = "MMIO write " + Text.hex(address) + "/" + size;
        }
    }

    private static final class NoInterrupts implements InterruptSource {
        private int tpr;

        @Override
        public int pendingVector() {
            return -1;
        }

        @Override
        public void acknowledge(int vector) {
            throw new IllegalStateException("no interrupt was pending");
        }

        @Override
        public int taskPriority() {
            return tpr;
        }

        @Override
        public void setTaskPriority(int cr8) {
            tpr = cr8;
        }
    }
}
