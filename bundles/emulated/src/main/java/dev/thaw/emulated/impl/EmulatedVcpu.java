package dev.thaw.emulated.impl;

import dev.thaw.api.runtime.Vcpu;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuState;
import dev.thaw.emulated.cpu.CpuState;
import dev.thaw.emulated.cpu.Interpreter;
import dev.thaw.emulated.cpu.StopReason;
import dev.thaw.emulated.irq.ApicBus;
import dev.thaw.emulated.irq.DualPic;
import dev.thaw.emulated.irq.IoApic;
import dev.thaw.emulated.irq.LocalApic;
import dev.thaw.linux.Libc;
import dev.thaw.support.runtime.VcpuThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One emulated vCPU: its interpreter, its local APIC, and the loop its platform thread runs: slices of
 * instructions between which the thread looks at the LAPIC timer, at INIT and start-up IPIs and at pause
 * and stop requests, and sleeps in HLT until an interrupt can wake it.
 *
 * <p><b>INIT and SIPI</b> are taken as KVM's {@code kvm_apic_accept_events} takes them, before each slice
 * and before a state is saved: an INIT resets the CPU (the BSP runs on from the reset vector, any other
 * vCPU waits for a SIPI: MP state INIT_RECEIVED), then a SIPI starts a waiting vCPU in real mode at
 * {@code vector << 12}; a SIPI at any other time is dropped. An AP starts out waiting (UNINITIALIZED)
 * until its state is restored with another MP state. A vCPU halted with interrupts disabled, or waiting
 * for a SIPI, sleeps until an NMI, INIT or SIPI arrives; when every vCPU of the VM sleeps so, the VM ends
 * ({@code HALTED}).
 */
final class EmulatedVcpu implements Vcpu {

    private static final Logger LOG = LoggerFactory.getLogger(EmulatedVcpu.class);
    /**
     * Instructions per slice: about a millisecond of guest time, so a LAPIC timer is late by about that
     * much at most, and a pause waits for at most one slice.
     */
    static final long SLICE = 50_000;

    private final int index;
    private final EmulatedVm vm;
    private final RunControl control;
    private final LocalApic lapic;
    private final VcpuBus bus;
    private final Interpreter cpu;
    /** The Linux thread id of the thread running this vCPU, 0 while none does. */
    private volatile int tid;
    /** The thread running this vCPU, or null. */
    private volatile Thread thread;

    EmulatedVcpu(EmulatedVm vm, int index, int vcpuCount, GuestRam ram, ApicBus apics, IoApic ioapic, DualPic pic,
            RunControl control) {
        this.index = index;
        this.vm = vm;
        this.control = control;
        this.lapic = apics.createLocalApic(index, index == 0, this::interruptArrived);
        if (index == 0) {
            lapic.connectPic(pic);
        }
        this.bus = new VcpuBus(index, lapic, ioapic, pic, this::kick);
        this.cpu = new Interpreter(ram.physical(), bus, lapic, index, new Interpreter.Options(vcpuCount, false));
    }

    @Override
    public int index() {
        return index;
    }

    int tid() {
        return tid;
    }

    VcpuBus bus() {
        return bus;
    }

    /**
     * Instructions this vCPU's interpreter executed. A plain field its own thread writes, read here without
     * synchronization: approximately current while the vCPU runs, exact once its thread has left.
     */
    long instructions() {
        return cpu.instructions();
    }

    /** #UD raised because the interpreter lacks an opcode the guest ran; read as {@link #instructions()}. */
    long unimplementedOpcodes() {
        return cpu.unimplementedCount();
    }

    /** Makes the thread look up from its slice (or its HLT) at once: for a pause, a stop, a failed access. */
    void kick() {
        cpu.requestStop();
        lapic.wakeUp();
    }

    /** The local APIC has a new interrupt from another thread: the interpreter asks it at its next boundary. */
    private void interruptArrived() {
        cpu.requestInterruptCheck();
    }

    /** An INIT or a start-up IPI reached this vCPU's APIC: the thread takes it between two slices. */
    void startupEventArrived() {
        cpu.requestStop();
    }

    /** Whether an NMI, INIT or SIPI waits to be taken: something that wakes a vCPU whatever RFLAGS.IF. */
    boolean hasWakeEvent() {
        return lapic.pendingEvents() != 0;
    }

    /** Takes a pending INIT, then a pending SIPI (see the class comment). One volatile read when there is none. */
    private void acceptStartupEvents() {
        if ((lapic.pendingEvents() & (LocalApic.EVENT_INIT | LocalApic.EVENT_SIPI)) == 0) {
            return;
        }
        if (lapic.takeInit()) {
            cpu.init();
        }
        int vector = lapic.takeSipi();
        if (vector >= 0) {
            cpu.startup(vector);
        }
    }

    /** Takes pending INIT and SIPI first, so the MP state says where they left the vCPU (as KVM_GET_MP_STATE). */
    @Override
    public VcpuState saveState() {
        control.requireStill("reading vCPU " + index + "'s state");
        acceptStartupEvents();
        return cpu.exportState().withLapic(lapic.save());
    }

    /**
     * Ordering: the CPU first, then the local APIC with the APIC base MSR from the state's Sregs (the CPU
     * reads and writes that MSR through its APIC). The TSC runs at the state's rate, whatever it is: an
     * interpreter keeps any rate.
     */
    @Override
    public void restoreState(VcpuState state) {
        control.requireStill("writing vCPU " + index + "'s state");
        StateCarryOver.check(index, state);
        if (state.tscKhz() == VcpuState.TSC_KHZ_UNKNOWN && index == 0) {
            LOG.info("VM {}: the state does not say the guest's TSC rate (saved before Thaw recorded it): its TSC runs"
                    + " at the emulated runtime's own rate", vm.name());
        }
        cpu.importState(CpuState.of(state));
        lapic.restore(state.sregs().apicBase(), state.lapic());
    }

    boolean runsOnCurrentThread() {
        return thread == Thread.currentThread();
    }

    /** The thread's body: runs until the VM ends, gives the thread back, then tells the run control. */
    void run(VcpuThreadPool.Carrier<Void> carrier) {
        thread = Thread.currentThread();
        tid = Libc.gettid();
        try {
            while (control.awaitTurn()) {
                VmExit end = slice();
                if (end != null) {
                    vm.end(end);
                    break;
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("vCPU {} of {} failed", index, vm.name(), e);
            vm.end(new VmExit(VmExit.Kind.RUNTIME_ERROR, index, "vCPU " + index + ": " + e, registerDump(), e));
        } finally {
            tid = 0;
            thread = null;
            carrier.release();
            control.threadLeft();
        }
    }

    /** One slice of guest instructions; returns why the VM ends, or null to go on. */
    private VmExit slice() {
        lapic.pollTimer(System.nanoTime());
        acceptStartupEvents();
        StopReason stop = cpu.run(SLICE);
        RuntimeException ioFailure = bus.takeFailure();
        if (ioFailure != null) {
            return new VmExit(VmExit.Kind.IO_HANDLER_FAILED, index, "vCPU " + index + ": I/O handler failed: " + ioFailure.getMessage(),
                    registerDump(), ioFailure);
        }
        return switch (stop.kind()) {
            case BUDGET, STOP_REQUESTED -> null;
            case HALTED -> halt();
            case WAIT_FOR_SIPI -> sleepUntilStartup("waits for a start-up IPI");
            case SHUTDOWN -> new VmExit(VmExit.Kind.SHUTDOWN, index, "vCPU " + index + ": guest shut down (" + stop.reason() + ")",
                    registerDump(), null);
            case EXCEPTION -> new VmExit(VmExit.Kind.GUEST_ERROR, index, "vCPU " + index + ": exception " + stop.vector()
                    + " was not delivered", registerDump(), null);
        };
    }

    /** HLT: sleep until an interrupt can be taken (or the timer's deadline, or a kick); with IF clear only an NMI, INIT or SIPI can wake it. */
    private VmExit halt() {
        if (!cpu.interruptsEnabled()) {
            return sleepUntilStartup("halted with interrupts disabled");
        }
        long deadline = lapic.nextTimerDeadlineNanos();
        long wait = deadline == Long.MAX_VALUE ? RunControl.PARK_TIMEOUT.toNanos() : Math.max(0, deadline - System.nanoTime());
        try {
            lapic.awaitInterrupt(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    /**
     * Sleeps until an NMI, INIT or SIPI is pending (or a kick, or a while passed: the loop then looks
     * again); returns the VM's end if every vCPU sleeps so.
     */
    private VmExit sleepUntilStartup(String what) {
        if (vm.sleepsForGood()) {
            String all = vm.vcpus().size() == 1 ? "" : " (and so does every other vCPU)";
            return new VmExit(VmExit.Kind.HALTED, index, "vCPU " + index + ": " + what + all, registerDump(), null);
        }
        try {
            lapic.awaitInterrupt(RunControl.PARK_TIMEOUT.toNanos(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            vm.wokeUp();
        }
        return null;
    }

    /** The registers of a vCPU that ended the VM, for its log line: where it was and in which mode. */
    private String registerDump() {
        CpuState s = cpu.exportState();
        Regs r = s.regs();
        Sregs sr = s.sregs();
        return String.format("rip %016x rsp %016x rflags %08x cr0 %08x cr2 %016x cr3 %016x cr4 %08x efer %x cs %04x ss %04x%n"
                + "rax %016x rbx %016x rcx %016x rdx %016x rsi %016x rdi %016x rbp %016x%n"
                + "r8  %016x r9  %016x r10 %016x r11 %016x r12 %016x r13 %016x r14 %016x r15 %016x",
                r.rip(), r.rsp(), r.rflags(), sr.cr0(), sr.cr2(), sr.cr3(), sr.cr4(), sr.efer(), sr.cs().selector(), sr.ss().selector(),
                r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rbp(),
                r.r8(), r.r9(), r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15());
    }
}
