package dev.thaw.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.Vcpu;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.linux.Libc;
import dev.thaw.runtime.contract.RuntimeVms.Access;
import dev.thaw.runtime.contract.RuntimeVms.Recorder;
import dev.thaw.testing.Await;
import dev.thaw.testing.Exits;
import dev.thaw.testing.Guests;
import dev.thaw.testing.Runtimes;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** vCPU threads running real guests: exits reach the handler, fatal exits end the VM, never a hang. */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(60)
class RunLoopTest {

    @Parameter
    String runtime;
    RuntimeVms vms;

    @BeforeEach
    void open() {
        vms = new RuntimeVms(runtime);
    }

    @AfterEach
    void close() throws Exception {
        if (vms != null) { // null where the runtime cannot run here: the test was skipped
            vms.close();
        }
    }

    @Test
    void portIoReachesTheHandlerInOrderWithItsSizesAndValues() throws Exception {
        Recorder io = new Recorder();
        Exits exits = new Exits();
        VirtualMachine vm = vms.create("io", Guests.PORT_IO, 1);
        vm.start(io, exits);
        Await.until("the last out", RuntimeVms.WAIT, () -> io.sawWrite(0x16));
        String thread = "vcpu-" + vm.name() + "-0";
        assertEquals(List.of(
                new Access(0, thread, true, 0x10, 1, 0x42),
                new Access(0, thread, true, 0x11, 2, 0x1234),
                new Access(0, thread, true, 0x12, 4, 0xdeadbeefL),
                new Access(0, thread, false, 0x13, 1, 0x5a),
                new Access(0, thread, true, 0x14, 1, 0x5a),
                new Access(0, thread, true, 0x15, 1, 'a'),
                new Access(0, thread, true, 0x15, 1, 'b'),
                new Access(0, thread, true, 0x15, 1, 'c'),
                new Access(0, thread, true, 0x16, 1, 0x99)), io.accesses);

        // Then hlt with interrupts off: nothing but an NMI or INIT could wake the vCPU.
        VmExit exit;
        if (runtime.equals(Runtimes.KVM)) {
            // KVM's in-kernel local APIC keeps the vCPU halted, the VM does not end...
            Thread.sleep(50);
            assertEquals(RunState.RUNNING, vm.runState());
            // ...and a pause (the kick wakes the halted vCPU) finds it at the hlt.
            vm.pause();
            assertEquals(Guests.PORT_IO_HLT + 1, RuntimeVms.regs(vm).rip());
            vm.resume();
            vm.stop();
            exit = vm.awaitExit(RuntimeVms.WAIT).orElseThrow();
            assertEquals(VmExit.Kind.STOPPED, exit.kind());
        } else {
            // The emulated runtime models no NMI or INIT source: the halt ends the VM.
            exit = vm.awaitExit(RuntimeVms.WAIT).orElseThrow(() -> new AssertionError("no HALTED exit"));
            assertEquals(VmExit.Kind.HALTED, exit.kind());
            assertEquals(0, exit.vcpu());
            assertEquals(1, exit.reason().lines().count(), "the reason is one line: " + exit.reason());
            assertTrue(exit.reason().startsWith("vCPU 0: "), exit.reason());
            assertEquals(Guests.PORT_IO_HLT + 1, RuntimeVms.register(exit.registerDump(), "rip"), "past the hlt");
            assertEquals(Guests.PORT_IO_HLT + 1, RuntimeVms.regs(vm).rip(), "the state read after the end agrees");
            vm.stop(); // after the end: changes nothing
            assertEquals(exit, vm.exit().orElseThrow());
        }
        assertEquals(RunState.STOPPED, vm.runState());
        Await.until("the listener", RuntimeVms.WAIT, () -> !exits.exits.isEmpty());
        Thread.sleep(20);
        assertEquals(List.of(exit), exits.exits, "the listener hears of the end exactly once");
    }

    @Test
    void aTripleFaultEndsTheVmWithShutdownAndARegisterDump() throws Exception {
        Exits exits = new Exits();
        VirtualMachine vm = vms.create("tf", Guests.TRIPLE_FAULT, 1);
        vm.start(new Recorder(), exits);
        VmExit exit = vm.awaitExit(RuntimeVms.WAIT).orElseThrow(() -> new AssertionError("no SHUTDOWN exit"));
        assertEquals(VmExit.Kind.SHUTDOWN, exit.kind());
        assertEquals(0, exit.vcpu());
        assertTrue(exit.reason().startsWith("vCPU 0: guest shut down (") && exit.reason().contains("triple fault"),
                exit.reason());
        if (runtime.equals(Runtimes.KVM)) {
            assertTrue(exit.reason().contains("KVM_EXIT_SHUTDOWN"), exit.reason());
        }
        assertEquals(1, exit.reason().lines().count(), "the reason is one line");
        String dump = exit.registerDump();
        for (String register : List.of("rip", "rsp", "rflags", "cr2", "cr3", "cr4", "efer", "rax", "rbx", "rcx", "rdx",
                "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")) {
            RuntimeVms.register(dump, register);
        }
        assertEquals(0x11, RuntimeVms.register(dump, "cr0"), dump);
        assertEquals(0x8, RuntimeVms.register(dump, "cs"), dump);
        assertEquals(0x10, RuntimeVms.register(dump, "ss"), dump);
        assertEquals(RuntimeVms.ENTRY_EBX, RuntimeVms.register(dump, "rbx"), dump);
        long rip = RuntimeVms.register(dump, "rip");
        assertTrue(rip >= Guests.ENTRY + 7 && rip <= Guests.ENTRY + 9, "at or past the ud2: " + dump);
        assertEquals(RunState.STOPPED, vm.runState());
        Await.until("the listener", RuntimeVms.WAIT, () -> !exits.exits.isEmpty());
        assertEquals(List.of(exit), exits.exits);
        // On the last vCPU thread: KVM's keeps its vCPU name; the emulated runtime's pooled thread has its idle
        // name back by then, so that a stopped VM leaves no thread named for it.
        String listenerThread = exits.threads.getFirst();
        if (runtime.equals(Runtimes.KVM)) {
            assertEquals("vcpu-" + vm.name() + "-0", listenerThread);
        } else {
            assertTrue(listenerThread.startsWith("thaw-emulated-pool-"), listenerThread);
        }
        assertThrows(RuntimeException.class, vm::pause);
    }

    @Test
    void anIoHandlerThatThrowsEndsTheVmWithThatReason() throws Exception {
        IoHandler failing = new Recorder() {
            @Override
            public void portWrite(int vcpu, int port, int size, long value) {
                throw new IllegalStateException("no device at port " + port);
            }
        };
        VirtualMachine vm = vms.create("fail", Guests.PORT_IO, 1);
        vm.start(failing, new Exits());
        VmExit exit = vm.awaitExit(RuntimeVms.WAIT).orElseThrow();
        assertEquals(VmExit.Kind.IO_HANDLER_FAILED, exit.kind());
        assertEquals(0, exit.vcpu());
        assertEquals(1, exit.reason().lines().count(), "the reason is one line: " + exit.reason());
        assertTrue(exit.reason().startsWith("vCPU 0: "), exit.reason());
        assertTrue(exit.reason().contains("no device at port 16"), exit.reason());
        if (runtime.equals(Runtimes.KVM)) {
            assertTrue(exit.reason().contains("out to port 0x10 (size 1)"), exit.reason());
        }
        assertInstanceOf(IllegalStateException.class, exit.cause());
        // The failing out is the first: the VM ends on it, never later (KVM moves RIP past an out before it
        // exits to user space, its fast PIO path).
        long rip = RuntimeVms.register(exit.registerDump(), "rip");
        assertTrue(rip == Guests.ENTRY + 2 || rip == Guests.ENTRY + 4, exit.registerDump());
        assertEquals(RunState.STOPPED, vm.runState());
    }

    @Test
    void twoVcpusRunOnTheirOwnThreadsWithTheirOwnApicIds() throws Exception {
        List<String> wrongThreads = new CopyOnWriteArrayList<>();
        VirtualMachine[] holder = new VirtualMachine[1];
        Recorder io = new Recorder() {
            @Override
            public void portWrite(int vcpu, int port, int size, long value) {
                int running = holder[0].vcpuOfThread(Libc.gettid());
                if (running != vcpu) {
                    wrongThreads.add("vCPU " + vcpu + "'s out to 0x" + Integer.toHexString(port) + " came from the thread of vCPU " + running);
                }
                super.portWrite(vcpu, port, size, value);
            }
        };
        VirtualMachine vm = vms.create("smp", Guests.SMP_HELLO, 2);
        holder[0] = vm;
        List<? extends Vcpu> vcpus = vm.vcpus();
        assertEquals(List.of(0, 1), vcpus.stream().map(Vcpu::index).toList());
        for (Vcpu v : vcpus) {
            VcpuState state = v.saveState();
            long leaf1Ebx = state.cpuid().stream().filter(e -> e.function() == 1).findFirst().orElseThrow().ebx();
            assertEquals(v.index(), leaf1Ebx >>> 24, "CPUID leaf 1 EBX[31:24]");
            assertEquals(v.index(), state.lapic().register(0x20) >>> 24, "local APIC ID register");
        }
        assertEquals(-1, vm.vcpuOfThread(Libc.gettid()), "a thread that runs no vCPU");
        vm.start(io, new Exits());
        Await.until("both vCPUs' reports", RuntimeVms.WAIT,
                () -> io.accesses.stream().filter(a -> a.port() == 0x32).count() == 2);
        for (int i = 0; i < 2; i++) {
            int index = i;
            List<Access> mine = io.accesses.stream().filter(a -> a.vcpu() == index).toList();
            assertEquals(List.of(0x31, 0x32), mine.stream().map(Access::port).toList());
            assertEquals(index, mine.get(0).value(), "the guest's CPUID says APIC ID " + index);
            assertEquals(index, mine.get(1).value(), "ESI holds the vCPU index");
            assertEquals(Set.of("vcpu-" + vm.name() + "-" + index),
                    mine.stream().map(Access::thread).collect(Collectors.toSet()));
        }
        assertEquals(List.of(), wrongThreads, "vcpuOfThread names the vCPU a thread runs");
        assertEquals(-1, vm.vcpuOfThread(Libc.gettid()));
        vm.stop();
        VmExit exit = vm.awaitExit(RuntimeVms.WAIT).orElseThrow();
        assertEquals(VmExit.Kind.STOPPED, exit.kind());
        assertEquals(-1, exit.vcpu(), "the host stopped it");
        assertEquals("", exit.registerDump());
    }

    @Test
    void theIoHandlerMayStopTheVmAndTheListenerMayCloseIt() throws Exception {
        VirtualMachine[] holder = new VirtualMachine[1];
        Exits exits = new Exits();
        long[] ripAtExit = {-1};
        IoHandler stopAtFirstOut = new Recorder() {
            @Override
            public void portWrite(int vcpu, int port, int size, long value) {
                super.portWrite(vcpu, port, size, value);
                holder[0].stop();
            }
        };
        VirtualMachine vm = vms.create("self", Guests.PORT_IO, 1);
        holder[0] = vm;
        vm.start(stopAtFirstOut, exit -> {
            ripAtExit[0] = vm.vcpus().getFirst().saveState().regs().rip();
            exits.vmExited(exit);
            vm.close();
        });
        Await.until("closed by its listener", RuntimeVms.WAIT, () -> vm.runState() == RunState.CLOSED);
        assertEquals(VmExit.Kind.STOPPED, exits.exits.getFirst().kind());
        assertEquals(Guests.ENTRY + 4, ripAtExit[0], "the out that stopped the VM was completed: RIP is past it");
        vm.close();
    }

    /**
     * Interrupt line 4 drives the guest's PIC: each edge reaches the guest once, at the vector the guest
     * programmed (any other vector would shut it down), and wakes it from its halt; a line the guest masked
     * does not reach it.
     */
    @Test
    void anInterruptLineReachesTheGuestThroughThePic() throws Exception {
        Recorder io = new Recorder();
        Exits exits = new Exits();
        VirtualMachine vm = vms.create("irq", Guests.PIC_INTERRUPT, 1);
        vm.start(io, exits);
        Await.until("the guest ready", RuntimeVms.WAIT, () -> io.sawWrite(Guests.PIC_INTERRUPT_READY_PORT));
        for (int n = 1; n <= 3; n++) {
            Thread.sleep(20); // the guest is in its halt (or about to be)
            vm.setInterruptLine(Guests.PIC_INTERRUPT_IRQ, true);
            vm.setInterruptLine(Guests.PIC_INTERRUPT_IRQ, false);
            int taken = n;
            Await.until("interrupt " + n + " taken", RuntimeVms.WAIT,
                    () -> io.written(Guests.PIC_INTERRUPT_PORT).size() >= taken || !exits.exits.isEmpty());
            assertEquals(List.of(), exits.exits, "the VM runs on");
        }
        vm.setInterruptLine(3, true); // masked by the guest
        vm.setInterruptLine(3, false);
        Thread.sleep(50);
        assertEquals(List.of(1L, 2L, 3L), io.written(Guests.PIC_INTERRUPT_PORT), "each edge taken once");
        vm.pause();
        long rip = RuntimeVms.regs(vm).rip();
        assertTrue(rip >= Guests.PIC_INTERRUPT_IDLE && rip < Guests.PIC_INTERRUPT_IDLE_END,
                "back in the idle loop: rip 0x" + Long.toHexString(rip));
        assertEquals(3, RuntimeVms.counter(vm));
        vm.resume();
        vm.stop();
        assertEquals(VmExit.Kind.STOPPED, vm.awaitExit(RuntimeVms.WAIT).orElseThrow().kind());
    }

    @Test
    void stateCannotBeTouchedWhileTheGuestRuns() throws Exception {
        VirtualMachine vm = vms.create("busy", Guests.COUNTER_LOOP, 1);
        Vcpu v = vm.vcpus().getFirst();
        VcpuState vcpuState = v.saveState(); // before the start: allowed
        VmArchState vmState = vm.saveState();
        vm.start(new Recorder(), new Exits());
        IllegalStateException e = assertThrows(IllegalStateException.class, v::saveState);
        assertTrue(e.getMessage().contains("pause"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> v.restoreState(vcpuState));
        assertThrows(IllegalStateException.class, vm::saveState);
        assertThrows(IllegalStateException.class, () -> vm.restoreState(vmState));
        assertThrows(IllegalStateException.class, () -> vm.createVcpus(1));
        assertThrows(IllegalStateException.class, () -> vm.start(new Recorder(), new Exits()));
        assertEquals(RunState.RUNNING, vm.runState());
        assertEquals(1, vm.vcpus().size());
        Await.until("the guest unharmed", RuntimeVms.WAIT, () -> RuntimeVms.counter(vm) > RuntimeVms.COUNTING);
    }
}
