package dev.thaw.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.Vcpu;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.VcpuState;
import dev.thaw.runtime.contract.RuntimeVms.Recorder;
import dev.thaw.testing.Await;
import dev.thaw.testing.Exits;
import dev.thaw.testing.Guests;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** pause() parks every vCPU at a consistent point; resume() lets them go on. */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(60)
class PauseTest {

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
    void aPausedGuestDoesNotAdvanceAndAResumedOneDoes() throws Exception {
        VirtualMachine vm = vms.counting("spin", 1);
        for (int round = 0; round < 3; round++) {
            vm.pause();
            vm.pause(); // idempotent
            assertEquals(RunState.PAUSED, vm.runState());
            int paused = RuntimeVms.counter(vm);
            Thread.sleep(100);
            assertEquals(paused, RuntimeVms.counter(vm), "no progress while paused");
            long rip = RuntimeVms.regs(vm).rip();
            assertTrue(rip == Guests.ENTRY || rip == Guests.ENTRY + 6, "at an instruction boundary: 0x"
                    + Long.toHexString(rip));
            vm.resume();
            assertEquals(RunState.RUNNING, vm.runState());
            Await.until("progress after resume", RuntimeVms.WAIT, () -> RuntimeVms.counter(vm) > paused + 1000);
        }
        vm.stop();
        assertEquals(RunState.STOPPED, vm.runState());
    }

    @Test
    void pausingAVmThatIsNotRunningIsRefusedAsMisuseNamingItsState() throws Exception {
        VirtualMachine vm = vms.counting("spin", 1);
        vm.stop();
        IllegalStateException e = assertThrows(IllegalStateException.class, vm::pause);
        assertTrue(e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("stopped"), e.getMessage());
    }

    /**
     * The guest takes tokens with {@code in} and echoes them with {@code out}; the VMM hands out 1, 2,
     * 3, ... At every pause the guest's registers and memory must agree with what the VMM handed out and
     * heard back: a token handed out is in EAX or memory (the {@code in} completed), never lost with RIP
     * still on the {@code in}. Each pause also writes the saved vCPU state back, and the echoes must stay
     * exactly 1, 2, 3, ...
     */
    @Test
    void pausingDuringAStreamOfPortIoLeavesNoIoHalfDone() throws Exception {
        List<String> errors = new CopyOnWriteArrayList<>();
        AtomicLong handed = new AtomicLong();
        AtomicLong echoed = new AtomicLong();
        IoHandler io = new Recorder() {
            @Override
            public long portRead(int vcpu, int port, int size) {
                if (port != Guests.ECHO_IN_PORT || size != 4) {
                    errors.add("unexpected in from 0x" + Integer.toHexString(port) + " size " + size);
                }
                return handed.incrementAndGet();
            }

            @Override
            public void portWrite(int vcpu, int port, int size, long value) {
                if (port != Guests.ECHO_OUT_PORT || size != 4) {
                    errors.add("unexpected out to 0x" + Integer.toHexString(port) + " size " + size);
                } else if (value != echoed.get() + 1 || value != handed.get()) {
                    errors.add("echo " + value + " after echo " + echoed.get() + ", token handed out " + handed.get());
                }
                echoed.set(value);
            }
        };
        VirtualMachine vm = vms.create("stream", Guests.ECHO, 1);
        Vcpu vcpu = vm.vcpus().getFirst();
        vm.start(io, new Exits());
        Set<Long> ripsSeen = new TreeSet<>();
        for (int round = 0; round < 40; round++) {
            Thread.sleep(ThreadLocalRandom.current().nextInt(1, 6));
            vm.pause();
            long token = handed.get();
            long echo = echoed.get();
            long stored = Integer.toUnsignedLong(RuntimeVms.counter(vm));
            VcpuState state = vcpu.saveState();
            Regs regs = state.regs();
            long eax = regs.rax() & 0xffff_ffffL;
            long rip = regs.rip();
            ripsSeen.add(rip);
            String where = "at rip 0x" + Long.toHexString(rip) + ": handed " + token + ", stored " + stored
                    + ", echoed " + echo + ", eax " + eax;
            if (rip == Guests.ECHO_A || rip == Guests.ECHO_D) {
                assertEquals(token, stored, where);
                assertEquals(token, echo, where);
            } else if (rip == Guests.ECHO_B) {
                assertEquals(token, eax, "the in completed: " + where);
                assertEquals(token - 1, echo, where);
            } else {
                assertEquals(Guests.ECHO_C, rip, where);
                assertEquals(token, stored, where);
                assertEquals(token - 1, echo, where);
            }
            vcpu.restoreState(state);
            vm.resume();
        }
        long before = echoed.get();
        Await.until("more echoes after the last resume", RuntimeVms.WAIT, () -> echoed.get() > before + 10);
        vm.stop();
        assertEquals(List.of(), errors);
        System.out.printf("%s: %d tokens echoed; RIPs at the 40 pauses: %s%n", runtime, echoed.get(),
                ripsSeen.stream().map(Long::toHexString).toList());
    }

    /**
     * A pause that lands inside a long {@code rep insb} (10000 bytes, several exits on KVM) leaves the guest at
     * an iteration boundary where every byte the VMM handed out is in guest memory and RCX/RDI agree.
     */
    @Test
    void pausingInsideStringIoLeavesItConsistent() throws Exception {
        AtomicLong reads = new AtomicLong();
        CountDownLatch underway = new CountDownLatch(1);
        Recorder done = new Recorder() {
            @Override
            public long portRead(int vcpu, int port, int size) {
                long n = reads.getAndIncrement();
                if (n == 3000) {
                    underway.countDown();
                }
                if (n > 3000 && n % 500 == 0) {
                    try {
                        Thread.sleep(1); // give the pause time to land mid-instruction
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return value(n);
            }
        };
        VirtualMachine vm = vms.create("insb", Guests.REP_INSB, 1);
        Vcpu vcpu = vm.vcpus().getFirst();
        vm.start(done, new Exits());
        assertTrue(underway.await(10, TimeUnit.SECONDS));
        vm.pause();
        VcpuState state = vcpu.saveState();
        Regs regs = state.regs();
        long copied = (regs.rdi() & 0xffff_ffffL) - Guests.REP_INSB_BUFFER;
        String where = "rip 0x" + Long.toHexString(regs.rip()) + ", rdi 0x" + Long.toHexString(regs.rdi())
                + ", rcx " + regs.rcx() + ", VMM reads " + reads.get();
        assertEquals(reads.get(), copied, "every byte handed out is stored: " + where);
        if (regs.rip() == Guests.REP_INSB_INSN) {
            assertEquals(Guests.REP_INSB_COUNT - copied, regs.rcx() & 0xffff_ffffL, where);
        }
        byte[] buffer = vm.guestMemory(Guests.REP_INSB_BUFFER, copied).toArray(ValueLayout.JAVA_BYTE);
        for (int k = 0; k < buffer.length; k++) {
            assertEquals((byte) value(k), buffer[k], "byte " + k + ", " + where);
        }
        System.out.println(runtime + ": paused inside rep insb: " + where);
        vcpu.restoreState(state);
        vm.resume();
        Await.until("the rep insb to finish", RuntimeVms.WAIT, () -> done.sawWrite(Guests.REP_INSB_DONE_PORT));
        assertEquals(Guests.REP_INSB_COUNT, reads.get());
        assertEquals(List.of(Guests.REP_INSB_BUFFER + Guests.REP_INSB_COUNT), done.written(Guests.REP_INSB_DONE_PORT),
                "the final EDI");
        byte[] all = vm.guestMemory(Guests.REP_INSB_BUFFER, Guests.REP_INSB_COUNT).toArray(ValueLayout.JAVA_BYTE);
        for (int k = 0; k < all.length; k++) {
            assertEquals((byte) value(k), all[k], "byte " + k);
        }
    }

    private static long value(long n) {
        return (n * 7 + 3) & 0xff;
    }

    @Test
    void aPauseOfTwoVcpusParksBoth() throws Exception {
        VirtualMachine vm = vms.counting("pair", 2);
        vm.pause();
        int paused = RuntimeVms.counter(vm);
        Thread.sleep(50);
        assertEquals(paused, RuntimeVms.counter(vm));
        for (Vcpu v : vm.vcpus()) {
            long rip = v.saveState().regs().rip(); // readable: parked
            assertTrue(rip == Guests.ENTRY || rip == Guests.ENTRY + 6, "vCPU " + v.index() + " at an instruction boundary: 0x"
                    + Long.toHexString(rip));
        }
        vm.resume();
        Await.until("progress", RuntimeVms.WAIT, () -> RuntimeVms.counter(vm) > paused);
    }
}
