package dev.thaw.emulated.loop;

import dev.thaw.api.bench.CodeLoopRunner;
import dev.thaw.api.bench.LoopRequest;
import dev.thaw.api.bench.LoopRun;
import dev.thaw.api.state.Regs;
import dev.thaw.emulated.cpu.CpuBus;
import dev.thaw.emulated.cpu.CpuState;
import dev.thaw.emulated.cpu.FlatLongMode;
import dev.thaw.emulated.cpu.InterruptSource;
import dev.thaw.emulated.cpu.Interpreter;
import dev.thaw.emulated.cpu.PhysicalMemory;
import dev.thaw.emulated.cpu.StopReason;
import dev.thaw.linux.Libc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;
import org.osgi.service.component.annotations.Component;

/**
 * The emulated vCPU's x86-64 interpreter as a {@link CodeLoopRunner}: a fresh {@link Interpreter} per run,
 * the one a VM's vCPU thread runs, over the request's memory as its only RAM, in 64-bit mode at CPL 3
 * ({@link FlatLongMode}: flat segments, 1 GiB identity-mapped pages whose tables sit at 0x1000). The
 * run ends at a HLT placed after the code: at CPL 3 it raises #GP, which the interpreter reports instead
 * of delivering. No devices, no interrupts. It runs in slices of {@value #SLICE} instructions, as a
 * vCPU thread of the emulated runtime does.
 *
 * <p>Why here: a benchmark bundle cannot reach the interpreter (its package is private to this bundle,
 * and exporting it would make the interpreter's internals an API), so this bundle offers the one thing
 * a benchmark needs of it as a service behind an API interface, as it offers its runtime.
 */
@Component(service = CodeLoopRunner.class, property = CodeLoopRunner.NAME_PROPERTY + "=" + InterpreterLoopRunner.NAME)
public final class InterpreterLoopRunner implements CodeLoopRunner {

    static final String NAME = "emulated";
    /** The PML4 and PDPT of the identity map, inside the runner's system area. */
    static final long PAGE_TABLES = 0x1000;
    static final byte HLT = (byte) 0xf4;
    static final int GP = 13;
    /** Instructions per {@link Interpreter#run} call: the slice a vCPU thread runs between its other duties. */
    static final long SLICE = 50_000;
    private static final long PAGE = 4096;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "the emulated vCPU's x86-64 interpreter alone: 64-bit mode at CPL 3, 1 GiB identity-mapped pages,"
                + " every instruction counted";
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public LoopRun run(LoopRequest request) {
        MemorySegment ram = request.memory();
        byte[] code = request.code();
        long end = request.codeAddress() + code.length;
        MemorySegment.copy(MemorySegment.ofArray(code), 0, ram, request.codeAddress(), code.length);
        ram.set(ValueLayout.JAVA_BYTE, end, HLT);
        PhysicalMemory memory = new PhysicalMemory(List.of(new PhysicalMemory.RamRegion(0, ram.byteSize(), ram, ram.address())),
                InterpreterLoopRunner::touch);
        Interpreter cpu = new Interpreter(memory, NO_DEVICES, NO_INTERRUPTS, 0, new Interpreter.Options(1, true));
        long[] g = request.registers();
        long cr3 = FlatLongMode.identityMap(memory, PAGE_TABLES, ram.byteSize());
        FlatLongMode.enter(cpu, 3, cr3, request.codeAddress(), g[4]);
        CpuState s = cpu.exportState();
        // Regs lists RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP; the encoding's order is RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI
        Regs regs = new Regs(g[0], g[3], g[1], g[2], g[6], g[7], g[4], g[5], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15],
                request.codeAddress(), Regs.RFLAGS_RESERVED_ONE);
        cpu.importState(new CpuState(s.cpuid(), s.mpState(), regs, s.sregs(), s.xsave(), s.xcrs(), s.debugRegs(), s.msrs(),
                s.events()));
        long before = cpu.instructions();
        long start = System.nanoTime();
        StopReason stop;
        do {
            stop = cpu.run(SLICE);
        } while (stop.kind() == StopReason.Kind.BUDGET);
        long nanos = System.nanoTime() - start;
        Regs after = cpu.exportState().regs();
        if (stop.kind() != StopReason.Kind.EXCEPTION || stop.vector() != GP || after.rip() != end) {
            throw new IllegalStateException("the interpreter stopped at rip 0x" + Long.toHexString(after.rip()) + " (" + stop
                    + "), not at the code's end 0x" + Long.toHexString(end));
        }
        // The interpreter counts the HLT that raised #GP as one instruction; it did not execute.
        long instructions = cpu.instructions() - before - 1;
        long[] out = {after.rax(), after.rcx(), after.rdx(), after.rbx(), after.rsp(), after.rbp(), after.rsi(), after.rdi(),
            after.r8(), after.r9(), after.r10(), after.r11(), after.r12(), after.r13(), after.r14(), after.r15()};
        return new LoopRun(out, instructions, nanos);
    }

    /** The page's first access, made by the kernel on this thread's behalf (the memory is plain anonymous memory). */
    private static void touch(long hostAddress, boolean write) {
        Libc.madvise(hostAddress & -PAGE, PAGE, write ? Libc.MADV_POPULATE_WRITE : Libc.MADV_POPULATE_READ);
    }

    private static final CpuBus NO_DEVICES = new CpuBus() {
        @Override
        public long portRead(int port, int size) {
            throw new IllegalStateException("the loop read port 0x" + Integer.toHexString(port) + ": there are no devices");
        }

        @Override
        public void portWrite(int port, int size, long value) {
            throw new IllegalStateException("the loop wrote port 0x" + Integer.toHexString(port) + ": there are no devices");
        }

        @Override
        public long mmioRead(long address, int size) {
            throw new IllegalStateException("the loop read 0x" + Long.toHexString(address) + ", outside its memory");
        }

        @Override
        public void mmioWrite(long address, int size, long value) {
            throw new IllegalStateException("the loop wrote 0x" + Long.toHexString(address) + ", outside its memory");
        }
    };

    private static final InterruptSource NO_INTERRUPTS = new InterruptSource() {
        @Override
        public int pendingVector() {
            return -1;
        }

        @Override
        public void acknowledge(int vector) {
            throw new IllegalStateException("no interrupt is pending");
        }

        @Override
        public int taskPriority() {
            return 0;
        }

        @Override
        public void setTaskPriority(int cr8) {
            // no interrupts to prioritize
        }
    };
}
