package dev.thaw.emulated.impl;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.api.runtime.VmSpec;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuState;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An emulated VM of a few MiB for runtime tests, running hand-assembled code: port 0x501 (a 32-bit
 * {@code out}) stops it and records the value, MMIO outside the APICs reads as 0xDEADBEEF and is
 * recorded.
 */
final class TinyVm implements AutoCloseable {

    static final long RAM = 2 << 20;
    static final int DEBUG_EXIT = 0x501;
    static final long UNBACKED = 0xdead_beefL;

    final EmulatedRuntime runtime;
    final EmulatedVm vm;
    final Map<Long, Long> mmioWrites = new ConcurrentHashMap<>();
    volatile long exitCode = -1;
    /** The thread that made the debug exit. */
    volatile Thread exitThread;

    private final boolean ownsRuntime;

    TinyVm(String name, int vcpus) {
        this(new EmulatedRuntime(), true, name, vcpus);
    }

    /** A VM of {@code runtime}, which stays open when this closes. */
    TinyVm(EmulatedRuntime runtime, String name, int vcpus) {
        this(runtime, false, name, vcpus);
    }

    private TinyVm(EmulatedRuntime runtime, boolean ownsRuntime, String name, int vcpus) {
        this.runtime = runtime;
        this.ownsRuntime = ownsRuntime;
        vm = (EmulatedVm) runtime.createVm(new VmSpec(name, List.of(new MemoryRange(0, RAM))));
        vm.createVcpus(vcpus);
    }

    void put(long address, int... bytes) {
        MemorySegment m = vm.guestMemory(address, bytes.length);
        for (int k = 0; k < bytes.length; k++) {
            m.set(ValueLayout.JAVA_BYTE, k, (byte) bytes[k]);
        }
    }

    int get32(long address) {
        return vm.guestMemory(address, 4).get(ValueLayout.JAVA_INT_UNALIGNED, 0);
    }

    /** vCPU {@code index} runnable in 32-bit protected mode, flat segments, no paging, at {@code eip} (the test guest's entry state). */
    void enterProtected32(int index, long eip) {
        EmulatedVcpu v = vm.vcpus().get(index);
        VcpuState reset = v.saveState();
        Segment code = new Segment(0, 0xffff_ffffL, 0x08, 0xb, 1, 0, 1, 1, 0, 1, 0, 0);
        Segment data = new Segment(0, 0xffff_ffffL, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0);
        Sregs r = reset.sregs();
        Sregs sregs = new Sregs(code, data, data, data, data, data, r.tr(), r.ldt(), r.gdt(), r.idt(), 0x11, 0, 0, 0, 0, 0,
                r.apicBase(), new long[Sregs.INTERRUPT_BITMAP_WORDS]);
        Regs regs = new Regs(0, 0, 0, 0, 0, 0, 0x1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, eip, 2);
        v.restoreState(new VcpuState(reset.cpuid(), MpState.RUNNABLE, regs, sregs, reset.xsave(), reset.xcrs(),
                reset.debugRegs(), reset.lapic(), reset.msrs(), reset.events(), reset.tscKhz()));
    }

    /** Starts the vCPUs and waits for the VM to end. */
    VmExit run(Duration timeout) throws InterruptedException {
        vm.start(new IoHandler() {
            @Override
            public long portRead(int vcpu, int port, int size) {
                return 0;
            }

            @Override
            public void portWrite(int vcpu, int port, int size, long value) {
                if (port == DEBUG_EXIT) {
                    exitCode = value;
                    exitThread = Thread.currentThread();
                    vm.stop();
                }
            }

            @Override
            public long mmioRead(int vcpu, long address, int size) {
                return UNBACKED;
            }

            @Override
            public void mmioWrite(int vcpu, long address, int size, long value) {
                mmioWrites.put(address, value);
            }
        }, exit -> { });
        return vm.awaitExit(timeout).orElseThrow(() -> new AssertionError("the VM did not end within " + timeout));
    }

    @Override
    public void close() {
        vm.close();
        if (ownsRuntime) {
            runtime.close();
        }
    }
}
