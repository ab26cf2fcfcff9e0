package dev.thaw.emulated.impl;

import dev.thaw.api.runtime.ExitListener;
import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.VcpuRuntimeException;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.api.runtime.VmSpec;
import dev.thaw.api.state.ClockData;
import dev.thaw.api.state.VmArchState;
import dev.thaw.emulated.irq.ApicBus;
import dev.thaw.emulated.irq.DualPic;
import dev.thaw.emulated.irq.InterruptRouter;
import dev.thaw.emulated.irq.IoApic;
import dev.thaw.emulated.irq.StartupListener;
import dev.thaw.support.runtime.VcpuThreadPool;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An emulated VM: its RAM, its interrupt controllers (a local APIC per vCPU, one IOAPIC, the PIC pair),
 * and its vCPUs, each an interpreter on its own platform thread {@code vcpu-<name>-<i>}, taken from the
 * runtime's {@link VcpuThreadPool} when the VM starts and given back when the vCPU is done.
 */
final class EmulatedVm implements VirtualMachine {

    private static final Logger LOG = LoggerFactory.getLogger(EmulatedVm.class);
    /** As many vCPUs as the test guest's ABI allows and an 8-bit APIC ID can name. */
    static final int MAX_VCPUS = 254;

    private final String name;
    private final GuestRam ram;
    private final ApicBus apics = ApicBus.onSystemClock();
    private final IoApic ioapic = apics.createIoApic();
    private final DualPic pic = new DualPic();
    private final InterruptRouter router = new InterruptRouter(pic, ioapic);
    private final List<EmulatedVcpu> vcpus = new CopyOnWriteArrayList<>();
    private final RunControl control;
    /** vCPUs asleep until an NMI, INIT or SIPI (halted with IF clear, or waiting for a SIPI). */
    private final AtomicInteger sleepingForStartup = new AtomicInteger();
    private final Consumer<EmulatedVm> onClose;
    /** The clock the VM state carries: guest nanoseconds at the last restore, and when that was. */
    private long clockBase;
    private long clockBaseNanos = System.nanoTime();

    private final VcpuThreadPool<Void> threads;

    EmulatedVm(VmSpec spec, VcpuThreadPool<Void> threads, Consumer<EmulatedVm> onClose) {
        this.name = spec.name();
        this.threads = threads;
        this.control = new RunControl(name);
        this.onClose = onClose;
        this.ram = new GuestRam(name, spec.memory(), spec.hugePages());
        apics.setStartupListener(new StartupListener() {
            @Override
            public void onInit(int apicId) {
                vcpus.get(apicId).startupEventArrived();
            }

            @Override
            public void onSipi(int apicId, int vector) {
                vcpus.get(apicId).startupEventArrived();
            }
        });
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String runtime() {
        return EmulatedRuntime.NAME;
    }

    @Override
    public List<GuestMemoryRegion> memory() {
        return ram.regions();
    }

    @Override
    public MemorySegment guestMemory(long guestAddress, long length) {
        return ram.slice(guestAddress, length);
    }

    @Override
    public synchronized List<EmulatedVcpu> createVcpus(int count) {
        if (control.state() != RunState.CREATED) {
            throw new IllegalStateException("VM " + name + ": vCPUs can be added only before it starts");
        }
        if (count < 1 || vcpus.size() + count > MAX_VCPUS) {
            throw new IllegalArgumentException("VM " + name + ": " + count + " more vCPUs would make " + (vcpus.size() + count)
                    + "; 1 to " + MAX_VCPUS + " are possible");
        }
        List<EmulatedVcpu> made = new ArrayList<>();
        int total = vcpus.size() + count;
        for (int i = 0; i < count; i++) {
            EmulatedVcpu v = new EmulatedVcpu(this, vcpus.size(), total, ram, apics, ioapic, pic, control);
            vcpus.add(v);
            made.add(v);
        }
        return made;
    }

    @Override
    public List<EmulatedVcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    @Override
    public synchronized void start(IoHandler io, ExitListener listener) {
        if (vcpus.isEmpty()) {
            throw new IllegalStateException("VM " + name + " has no vCPUs to start");
        }
        control.starting(vcpus.size(), listener);
        for (EmulatedVcpu v : vcpus) {
            v.bus().connect(io);
            threads.run("vcpu-" + name + "-" + v.index(), v::run);
        }
    }

    /** A vCPU thread ends the VM: the first reason is logged with its register dump and stands. */
    void end(VmExit why) {
        if (control.end(why) && why.kind() != VmExit.Kind.STOPPED) {
            LOG.warn("VM {} ended: {}\n{}", name, why.reason(), why.registerDump());
        }
        kickAll();
    }

    /**
     * A vCPU goes to sleep until an NMI, INIT or SIPI; true if now every vCPU sleeps so and none has one
     * pending: nothing can run again. A vCPU that wakes calls {@link #wokeUp()} before it takes its events,
     * so an event is either still pending here or its vCPU no longer counted. (A device could still send an
     * NMI through the IOAPIC; Thaw's devices do not.)
     */
    boolean sleepsForGood() {
        if (sleepingForStartup.incrementAndGet() < vcpus.size()) {
            return false;
        }
        for (EmulatedVcpu v : vcpus) {
            if (v.hasWakeEvent()) {
                return false;
            }
        }
        return true;
    }

    void wokeUp() {
        sleepingForStartup.decrementAndGet();
    }

    private void kickAll() {
        for (EmulatedVcpu v : vcpus) {
            v.kick();
        }
    }

    @Override
    public void pause() {
        control.pause(this::kickAll);
    }

    @Override
    public void resume() {
        control.resume();
    }

    @Override
    public void stop() {
        if (control.state() == RunState.CREATED || control.state() == RunState.CLOSED) {
            return;
        }
        end(new VmExit(VmExit.Kind.STOPPED, -1, "stopped by the host", "", null));
        if (!onVcpuThread()) {
            control.awaitThreadsGone();
        }
    }

    private boolean onVcpuThread() {
        for (EmulatedVcpu v : vcpus) {
            if (v.runsOnCurrentThread()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public RunState runState() {
        return control.state();
    }

    @Override
    public Optional<VmExit> exit() {
        return control.exit();
    }

    @Override
    public Optional<VmExit> awaitExit(Duration timeout) throws InterruptedException {
        return control.awaitExit(timeout);
    }

    @Override
    public void setInterruptLine(int gsi, boolean asserted) {
        router.setIrq(gsi, asserted);
    }

    /**
     * {@link #INSTRUCTIONS} and {@link #UNIMPLEMENTED_OPCODES}, summed over the interpreters. Their counters
     * are plain longs that only their vCPU threads write; they are read here as they are, without stopping
     * anything, so a running VM's figures are approximately current (a vCPU's count may lag by what its
     * thread has not yet made visible); once the threads have left they are exact.
     */
    @Override
    public Map<String, Long> counters() {
        long instructions = 0;
        long unimplemented = 0;
        for (EmulatedVcpu v : vcpus) {
            instructions += v.instructions();
            unimplemented += v.unimplementedOpcodes();
        }
        Map<String, Long> c = new LinkedHashMap<>();
        c.put(INSTRUCTIONS, instructions);
        c.put(UNIMPLEMENTED_OPCODES, unimplemented);
        return Collections.unmodifiableMap(c);
    }

    @Override
    public int vcpuOfThread(int tid) {
        for (EmulatedVcpu v : vcpus) {
            if (v.tid() == tid) {
                return v.index();
            }
        }
        return -1;
    }

    @Override
    public VmArchState saveState() {
        control.requireStill("reading its state");
        long clock = clockBase + (System.nanoTime() - clockBaseNanos);
        return new VmArchState(null, new ClockData(clock, 0, 0, 0), pic.saveMaster(), pic.saveSlave(), ioapic.save());
    }

    /**
     * Ordering: the vCPUs (and with them the local APICs) were restored before; then the IOAPIC, whose
     * restore may deliver level-triggered interrupts to those APICs; then the PICs; then the clock. A PIT
     * cannot carry over: this runtime has none (Thaw's VMs never make one).
     */
    @Override
    public void restoreState(VmArchState state) {
        control.requireStill("writing its state");
        if (state.pit() != null) {
            throw new VcpuRuntimeException("VM " + name + ": the snapshot's VM has an i8254 PIT, which the emulated runtime does not model");
        }
        ioapic.restore(state.ioapic());
        pic.restore(state.picMaster(), state.picSlave());
        clockBase = state.clock().clock();
        clockBaseNanos = System.nanoTime();
    }

    @Override
    public void close() {
        boolean own = onVcpuThread();
        // The exit listener runs on the last vCPU thread after every thread has left its loop: it may close
        // the VM. An I/O handler, mid-instruction, may not (it would free the memory its instruction uses).
        if (own && control.state() != RunState.STOPPED) {
            throw new IllegalStateException("VM " + name + ": close() from its own running vCPU thread; use stop()");
        }
        stop();
        if (!control.close()) {
            return;
        }
        if (!control.awaitThreadsGone()) {
            LOG.error("VM {}: a vCPU thread did not leave its run loop; its memory stays mapped", name);
            onClose.accept(this);
            return;
        }
        ram.close();
        onClose.accept(this);
    }
}
