package dev.thaw.kvm;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.VmExit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.kvm.TestVms.Access;
import dev.thaw.kvm.TestVms.Exits;
import dev.thaw.kvm.TestVms.Recorder;
import dev.thaw.testing.RequiresKvm;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** vCPU threads running real guests: exits reach the handler, fatal exits end the VM, never a hang. */
@RequiresKvm
@Timeout(60)
class RunLoopTest {

    @RegisterExtension
    static final KvmFixture kvm = new KvmFixture();

    @Test
    void portIoReachesTheHandlerInOrderWithItsSizesAndValues() throws Exception {
        Recorder io = new Recorder();
        Exits exits = new Exits();
        VirtualMachine vm = kvm.create("io", Guests.PORT_IO, 1);
        vm.start(io, exits);
        TestVms.await("the last out", KvmFixture.WAIT, () -> io.sawWrite(0x16));
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

        // hlt with the in-kernel local APIC: KVM keeps the vCPU halted, the VM does not end...
        Thread.sleep(50);
        assertEquals(RunState.RUNNING, vm.runState());
        // ...and a pause (the kick wakes the halted vCPU) finds it at the hlt.
        vm.pause();
        assertEquals(Guests.PORT_IO_HLT + 1, vm.vcpus().getFirst().regs().rip());
        vm.resume();
        vm.stop();
        VmExit exit = vm.awaitExit(KvmFixture.WAIT).orElseThrow();
        assertEquals(VmExit.Kind.STOPPED, exit.kind());
        assertEquals(RunState.STOPPED, vm.runState());
        assertEquals(List.of(exit), exits.exits, "the listener hears of the end exactly once");
    }

    @Test
    void aTripleFaultEndsTheVmWithShutdownAndARegisterDump() throws Exception {
        Exits exits = new Exits();
        VirtualMachine vm = kvm.create("tf", Guests.TRIPLE_FAULT, 1);
        vm.start(new Recorder(), exits);
        VmExit exit = vm.awaitExit(KvmFixture.WAIT).orElseThrow(() -> new AssertionError("no SHUTDOWN exit"));
        assertEquals(VmExit.Kind.SHUTDOWN, exit.kind());
        assertEquals(0, exit.vcpu());
        assertTrue(exit.reason().contains("KVM_EXIT_SHUTDOWN"), exit.reason());
        assertEquals(1, exit.reason().lines().count(), "the reason is one line");
        for (String register : List.of("rip=0x", "rsp=0x", "rflags=0x", "cr0=0x11", "cr3=0x", "cr4=0x", "efer=0x",
                "cs=0x8", "ss=0x10", "rax=0x", "r15=0x")) {
            assertTrue(exit.registerDump().contains(register), register + " in\n" + exit.registerDump());
        }
        assertEquals(RunState.STOPPED, vm.runState());
        TestVms.await("the listener", KvmFixture.WAIT, () -> !exits.exits.isEmpty());
        assertEquals(List.of(exit), exits.exits);
        assertEquals("vcpu-" + vm.name() + "-0", exits.threads.getFirst());
        assertThrows(IllegalStateException.class, vm::pause);
    }

    @Test
    void anIoHandlerThatThrowsEndsTheVmWithThatReason() throws Exception {
        IoHandler failing = new Recorder() {
            @Override
            public void portWrite(int vcpu, int port, int size, long value) {
                throw new IllegalStateException("no device at port " + port);
            }
        };
        VirtualMachine vm = kvm.create("fail", Guests.PORT_IO, 1);
        vm.start(failing, new Exits());
        VmExit exit = vm.awaitExit(KvmFixture.WAIT).orElseThrow();
        assertEquals(VmExit.Kind.IO_HANDLER_FAILED, exit.kind());
        assertTrue(exit.reason().contains("out to port 0x10 (size 1)"), exit.reason());
        assertTrue(exit.reason().contains("no device at port 16"), exit.reason());
        assertInstanceOf(IllegalStateException.class, exit.cause());
        // KVM moves RIP past an out before it exits to user space (its fast PIO path).
        assertTrue(exit.registerDump().contains("rip=0x100004") || exit.registerDump().contains("rip=0x100002"),
                exit.registerDump());
    }

    @Test
    void twoVcpusRunOnTheirOwnThreadsWithTheirOwnApicIds() throws Exception {
        Recorder io = new Recorder();
        VirtualMachine vm = kvm.create("smp", Guests.SMP_HELLO, 2);
        List<Vcpu> vcpus = vm.vcpus();
        for (Vcpu v : vcpus) {
            assertEquals(v.index(), v.apicId());
            long leaf1Ebx = v.cpuid().stream().filter(e -> e.function() == 1).findFirst().orElseThrow().ebx();
            assertEquals(v.index(), leaf1Ebx >>> 24, "CPUID leaf 1 EBX[31:24]");
            assertEquals(v.index(), v.lapic().register(0x20) >>> 24, "local APIC ID register");
        }
        vm.start(io, new Exits());
        TestVms.await("both vCPUs' reports", KvmFixture.WAIT,
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
        vm.stop();
        assertEquals(VmExit.Kind.STOPPED, vm.awaitExit(KvmFixture.WAIT).orElseThrow().kind());
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
        VirtualMachine vm = kvm.create("self", Guests.PORT_IO, 1);
        holder[0] = vm;
        vm.start(stopAtFirstOut, exit -> {
            ripAtExit[0] = vm.vcpus().getFirst().regs().rip();
            exits.vmExited(exit);
            vm.close();
        });
        TestVms.await("closed by its listener", KvmFixture.WAIT, () -> vm.runState() == RunState.CLOSED);
        assertEquals(VmExit.Kind.STOPPED, exits.exits.getFirst().kind());
        assertEquals(Guests.ENTRY + 4, ripAtExit[0], "the out that stopped the VM was completed: RIP is past it");
        vm.close();
    }

    @Test
    void stateCannotBeTouchedWhileTheGuestRuns() throws Exception {
        VirtualMachine vm = kvm.start("busy", Guests.COUNTER_LOOP, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> vm.vcpus().getFirst().regs());
        assertTrue(e.getMessage().contains("pause() it first"), e.getMessage());
        assertThrows(IllegalStateException.class, vm::saveArchState);
        assertThrows(IllegalStateException.class, () -> vm.createVcpus(1, VcpuSetup.none()));
    }
}
