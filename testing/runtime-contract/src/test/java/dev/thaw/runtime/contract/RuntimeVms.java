package dev.thaw.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.Vcpu;
import dev.thaw.api.runtime.VcpuRuntime;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.runtime.VmSpec;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.emulated.impl.EmulatedRuntime;
import dev.thaw.kvm.impl.KvmHypervisor;
import dev.thaw.testing.Await;
import dev.thaw.testing.Exits;
import dev.thaw.testing.Guests;
import dev.thaw.testing.Runtimes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One test's runtime, made through the SPI alone, and the VMs the test makes on it (each with
 * {@link #MEMORY} at 0, running one of the {@link Guests}); {@link #close()} closes them, then the runtime.
 * Making one for a runtime that cannot run here skips the test ({@link Runtimes#assumeUsable}).
 */
final class RuntimeVms implements AutoCloseable {

    /** How long a test waits for a guest to get somewhere. */
    static final Duration WAIT = Duration.ofSeconds(10);
    /** Guest counter value that shows a {@link Guests#COUNTER_LOOP} guest is running. */
    static final int COUNTING = 1000;
    static final long MEMORY = 2 << 20;
    /** EBX at entry, as the guests expect. */
    static final long ENTRY_EBX = 0x7000;

    private static final AtomicInteger NAMES = new AtomicInteger();
    private static final Segment CODE = new Segment(0, 0xffff_ffffL, 0x08, 0xb, 1, 0, 1, 1, 0, 1, 0, 0);
    private static final Segment DATA = new Segment(0, 0xffff_ffffL, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0);

    private final String name;
    private final VcpuRuntime runtime;
    private final List<VirtualMachine> vms = new ArrayList<>();

    /** A VM's snapshot, as tests take it: its vCPUs' and its own state, and its memory. */
    record Saved(List<VcpuState> vcpus, VmArchState arch, byte[] memory, int counter) {}

    RuntimeVms(String runtimeName) {
        Runtimes.assumeUsable(runtimeName);
        this.name = runtimeName;
        this.runtime = open(runtimeName);
    }

    /** A new instance of runtime {@code runtimeName}, as its component would be activated. */
    static VcpuRuntime open(String runtimeName) {
        return switch (runtimeName) {
            case Runtimes.KVM -> new KvmHypervisor();
            case Runtimes.EMULATED -> new EmulatedRuntime();
            default -> throw new IllegalArgumentException("no runtime " + runtimeName);
        };
    }

    String name() {
        return name;
    }

    VcpuRuntime runtime() {
        return runtime;
    }

    static String uniqueName(String prefix) {
        return prefix + NAMES.incrementAndGet();
    }

    /** A VM with {@code memory} (no vCPUs), closed after the test. */
    VirtualMachine createEmpty(String prefix, List<MemoryRange> memory) {
        return track(runtime.createVm(new VmSpec(uniqueName(prefix), memory)));
    }

    /** A VM with low memory, {@code code} at {@link Guests#ENTRY} and {@code vcpus} vCPUs at its entry; not started. */
    VirtualMachine create(String prefix, byte[] code, int vcpus) {
        VirtualMachine vm = createEmpty(prefix, List.of(new MemoryRange(0, MEMORY)));
        load(vm, code, vcpus);
        return vm;
    }

    /** Writes {@code code} at {@link Guests#ENTRY} and adds {@code vcpus} vCPUs in {@link #entryState}. */
    static void load(VirtualMachine vm, byte[] code, int vcpus) {
        vm.guestMemory(Guests.ENTRY, code.length).copyFrom(MemorySegment.ofArray(code));
        for (Vcpu v : vm.createVcpus(vcpus)) {
            v.restoreState(entryState(v.saveState(), v.index()));
        }
    }

    /**
     * {@code reset} (a new vCPU's state, whatever the runtime's reset vector) at {@link Guests#ENTRY} in 32-bit
     * protected mode: CR0 = PE|ET, paging off, EFER 0, flat code (0x08) and data (0x10) segments, interrupts
     * off, EBX {@link #ENTRY_EBX}, ESI the vCPU index, every other general register 0, runnable.
     */
    static VcpuState entryState(VcpuState reset, int index) {
        Sregs r = reset.sregs();
        Sregs sregs = new Sregs(CODE, DATA, DATA, DATA, DATA, DATA, r.tr(), r.ldt(), r.gdt(), r.idt(),
                0x11, 0, 0, 0, 0, 0, r.apicBase(), new long[Sregs.INTERRUPT_BITMAP_WORDS]);
        Regs regs = new Regs(0, ENTRY_EBX, 0, 0, index, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                Guests.ENTRY, Regs.RFLAGS_RESERVED_ONE);
        return new VcpuState(reset.cpuid(), MpState.RUNNABLE, regs, sregs, reset.xsave(), reset.xcrs(), reset.debugRegs(),
                reset.lapic(), reset.msrs(), reset.events(), reset.tscKhz());
    }

    /** As {@link #create}, started with a {@link Recorder} and {@link Exits}. */
    VirtualMachine start(String prefix, byte[] code, int vcpus) {
        VirtualMachine vm = create(prefix, code, vcpus);
        vm.start(new Recorder(), new Exits());
        return vm;
    }

    /** A started {@link Guests#COUNTER_LOOP} VM whose counter has passed {@link #COUNTING}. */
    VirtualMachine counting(String prefix, int vcpus) throws InterruptedException {
        VirtualMachine vm = start(prefix, Guests.COUNTER_LOOP, vcpus);
        Await.until(vm.name() + " counting", WAIT, () -> counter(vm) > COUNTING);
        return vm;
    }

    /** Every vCPU's state, the VM's state and its low memory; the VM must be paused or stopped. */
    static Saved save(VirtualMachine vm) {
        List<VcpuState> states = new ArrayList<>();
        for (Vcpu v : vm.vcpus()) {
            states.add(v.saveState());
        }
        return new Saved(states, vm.saveState(), vm.memory().getFirst().memory().toArray(ValueLayout.JAVA_BYTE), counter(vm));
    }

    /** A fresh VM with {@code saved}'s memory and state, in the order a restore uses; not started. */
    VirtualMachine restore(String prefix, Saved saved) {
        VirtualMachine vm = createEmpty(prefix, List.of(new MemoryRange(0, MEMORY)));
        vm.memory().getFirst().memory().copyFrom(MemorySegment.ofArray(saved.memory()));
        List<? extends Vcpu> vcpus = vm.createVcpus(saved.vcpus().size());
        for (int i = 0; i < vcpus.size(); i++) {
            vcpus.get(i).restoreState(saved.vcpus().get(i));
        }
        vm.restoreState(saved.arch());
        return vm;
    }

    /** Another VM for the test to close itself; forgotten here. */
    void forget(VirtualMachine vm) {
        vms.remove(vm);
    }

    private VirtualMachine track(VirtualMachine vm) {
        vms.add(vm);
        return vm;
    }

    /** Closes the test's VMs, then the runtime. */
    @Override
    public void close() throws Exception {
        try {
            for (VirtualMachine vm : vms) {
                vm.close();
            }
            vms.clear();
        } finally {
            ((AutoCloseable) runtime).close();
        }
    }

    static int counter(VirtualMachine vm) {
        return vm.guestMemory(Guests.COUNTER, 4).get(ValueLayout.JAVA_INT, 0);
    }

    static Regs regs(VirtualMachine vm) {
        return vm.vcpus().getFirst().saveState().regs();
    }

    /**
     * Register {@code register}'s value in an exit's register dump, which every runtime writes in its own
     * layout: the name, then {@code =} or blanks, then the value in hex (with or without {@code 0x}).
     */
    static long register(String dump, String register) {
        Matcher m = Pattern.compile("(?<![A-Za-z0-9])" + register + "(?:\\s*=\\s*|\\s+)(?:0x)?([0-9a-fA-F]+)\\b").matcher(dump);
        assertTrue(m.find(), register + " in the register dump\n" + dump);
        return Long.parseUnsignedLong(m.group(1), 16);
    }

    /** One guest access as the {@link IoHandler} saw it. */
    record Access(int vcpu, String thread, boolean write, int port, int size, long value) {}

    /** Records every access; {@code in} returns {@link #inValue}. */
    static class Recorder implements IoHandler {
        final List<Access> accesses = new CopyOnWriteArrayList<>();
        volatile long inValue = 0x5a;

        @Override
        public long portRead(int vcpu, int port, int size) {
            accesses.add(new Access(vcpu, Thread.currentThread().getName(), false, port, size, inValue));
            return inValue;
        }

        @Override
        public void portWrite(int vcpu, int port, int size, long value) {
            accesses.add(new Access(vcpu, Thread.currentThread().getName(), true, port, size, value));
        }

        boolean sawWrite(int port) {
            return accesses.stream().anyMatch(a -> a.write() && a.port() == port);
        }

        List<Long> written(int port) {
            return accesses.stream().filter(a -> a.write() && a.port() == port).map(Access::value).toList();
        }
    }
}
