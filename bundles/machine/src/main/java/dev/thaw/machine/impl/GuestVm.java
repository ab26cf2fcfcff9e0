package dev.thaw.machine.impl;

import dev.thaw.api.device.ConsoleInput;
import dev.thaw.api.device.ConsoleOutput;
import dev.thaw.api.device.Device;
import dev.thaw.api.device.DeviceContext;
import dev.thaw.api.device.DeviceProvider;
import dev.thaw.api.device.InterruptLine;
import dev.thaw.api.restore.RestoreFailure;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.GuestMemory;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SessionState;
import dev.thaw.api.snapshot.SnapshotSummary;
import dev.thaw.api.snapshot.SnapshotWriter;
import dev.thaw.api.vm.GuestMemoryUse;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmInfo;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import dev.thaw.support.guest.ConsoleLog;
import dev.thaw.support.guest.VmRefusals;
import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.Vcpu;
import dev.thaw.api.runtime.VcpuRuntime;
import dev.thaw.api.runtime.VcpuRuntimeException;
import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.api.runtime.VmSpec;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One VM running the test guest: a VM of some vCPU runtime, its devices on a port bus, its console. */
final class GuestVm implements Vm, DeviceContext {

    private static final Logger LOG = LoggerFactory.getLogger(GuestVm.class);

    /** What a new VM gets from its manager. */
    record Parts(VcpuRuntime runtime, List<DeviceProvider> deviceProviders, SnapshotWriter writer,
            MachineStateCodec codec, GuestImage image) {}

    private final BootPlan plan;
    private final Parts parts;
    private final ConsoleLog console = new ConsoleLog();
    private final PortBus bus = new PortBus();
    /** Devices by type, in bus order. */
    private final Map<String, Device<?>> devices = new LinkedHashMap<>();

    /** When the boot or restore was requested: uptime, first output and resume latency count from here. */
    private final long bootNanos;
    private final Consumer<GuestVm> onStopped;
    private final Object invocationLock = new Object();
    private volatile VirtualMachine machine;
    /** The runtime's counters as they were when the VM was released: what {@link #runtimeCounters()} shows after. */
    private volatile Map<String, Long> lastCounters = Map.of();
    /** A restored VM's memory while a lazy restore loads it, and its figures after; null for a booted VM. */
    private volatile RestoredMemory restored;
    private ConsoleInput input;
    private volatile VmStatus status = VmStatus.RUNNING;
    private volatile int exitCode = -1;
    private volatile String reason = "";
    private int invocations;
    /** For a restored VM, from the restore request to every vCPU running; null for a booted one. */
    private volatile Duration resumeLatency;
    private boolean restoring;

    private GuestVm(BootPlan plan, Parts parts, Consumer<GuestVm> onStopped, long requested) {
        this.bootNanos = requested;
        this.plan = plan;
        this.parts = parts;
        this.onStopped = onStopped;
    }

    /**
     * Makes the VM, loads the guest and starts its vCPUs. On any failure everything made so far is
     * released and the error says what failed.
     */
    static GuestVm boot(BootPlan plan, Parts parts, Consumer<GuestVm> onStopped, long requested) {
        GuestVm vm = new GuestVm(plan, parts, onStopped, requested);
        return vm.build(true, () -> {
            vm.load(GuestImage.LOAD_ADDRESS, parts.image().bytes());
            vm.load(BootParameters.ADDRESS, plan.bootParameters());
            vm.attachDevices();
            for (Vcpu vcpu : vm.machine.createVcpus(plan.request().vcpus())) {
                vcpu.restoreState(BootProtocol.entryState(vcpu.saveState(), vcpu.index()));
            }
        });
    }

    /**
     * Makes a VM from a snapshot: memory through {@code loader}, then state. On any failure everything
     * made so far is released.
     */
    static GuestVm restore(BootPlan plan, Parts parts, MachineState state, MemoryLoader loader, Consumer<GuestVm> onStopped,
            long requested) {
        GuestVm vm = new GuestVm(plan, parts, onStopped, requested);
        vm.restoring = true;
        return vm.build(!loader.servesFaults(), () -> {
            vm.restored = loader.load(vm.machine.memory(), vm);
            vm.attachDevices();
            vm.machine.createVcpus(state.vcpus().size());
            // Ordering: vCPU state first (CPUID before everything, as KVM requires; the runtime keeps
            // the order within a vCPU), then the PIC/IOAPIC/PIT/clock, then the devices, which
            // re-assert pending interrupt lines into the restored interrupt controllers.
            for (int i = 0; i < state.vcpus().size(); i++) {
                vm.machine.vcpus().get(i).restoreState(state.vcpus().get(i));
            }
            vm.machine.restoreState(state.vm());
            parts.codec().restoreDevices(state.devices(), vm.devices);
            vm.console.restore(state.session().consoleText(), state.session().consoleBytes(), state.session().results());
            vm.invocations = state.session().invocations();
        });
    }

    /** @param hugePages whether the memory may be huge pages: not when a userfaultfd will serve it */
    private GuestVm build(boolean hugePages, Runnable prepare) {
        try {
            machine = parts.runtime().createVm(vmSpec(hugePages));
            prepare.run();
            machine.start(new IoHandler() {
                @Override
                public long portRead(int vcpu, int port, int size) {
                    return bus.read(port, size);
                }

                @Override
                public void portWrite(int vcpu, int port, int size, long value) {
                    bus.write(port, size, value);
                }
            }, this::exited);
            if (restoring) {
                resumeLatency = Duration.ofNanos(System.nanoTime() - bootNanos);
            }
            if (restored != null) {
                restored.resumed(); // the resume point: every vCPU runs, memory still arriving
            }
            LOG.info("{} running on {}: {} MiB, {} vCPUs, workload {}", plan.id(), machine.runtime(),
                    plan.request().memoryBytes() >> 20, plan.request().vcpus(), plan.request().workload().label());
            return this;
        } catch (RuntimeException e) {
            release();
            if (e instanceof IllegalArgumentException || e instanceof VmException
                    || e instanceof dev.thaw.api.snapshot.SnapshotException) {
                throw e;
            }
            throw new VmException(plan.id() + ": cannot start: " + e.getMessage(), e);
        }
    }

    private VmSpec vmSpec(boolean hugePages) {
        return new VmSpec(plan.id(), plan.regions().stream().map(r -> new MemoryRange(r.guestAddress(), r.size())).toList(),
                hugePages);
    }

    private void attachDevices() {
        for (DeviceProvider p : parts.deviceProviders()) {
            Device<?> d = p.create(this);
            devices.put(p.type(), d);
            bus.attach(d);
            if (d instanceof ConsoleInput in) {
                input = in;
            }
        }
        if (input == null) {
            throw new VmException(plan.id() + ": no console device is installed (the UART bundle is missing)");
        }
    }

    private void load(long guestAddress, byte[] bytes) {
        MemorySegment target = machine.guestMemory(guestAddress, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, target, 0, bytes.length);
    }

    /** The runtime ended the VM (a guest crash or a VMM failure), or we stopped it. */
    private void exited(VmExit exit) {
        if (exit.kind() == VmExit.Kind.STOPPED) {
            return; // our own stop (debug exit, snapshot or thaw:stop) already set the status
        }
        if (status == VmStatus.FAILED) {
            return; // the first reason stands (a vCPU denied an unloadable page then fails with EFAULT)
        }
        reason = exit.reason();
        status = VmStatus.FAILED;
        // The runtime has logged the reason with a register dump.
        LOG.info("{} failed: {}", plan.id(), exit.reason());
        console.end("the VM failed: " + exit.reason());
    }

    @Override
    public String id() {
        return plan.id();
    }

    @Override
    public VmInfo info() {
        return new VmInfo(plan.id(), status, plan.request().memoryBytes(), plan.request().vcpus(),
                plan.request().workload(), Duration.ofNanos(System.nanoTime() - bootNanos), exitCode, reason,
                console.firstOutput(), resumeLatency, parts.runtime().name());
    }

    @Override
    public Map<String, Long> runtimeCounters() {
        VirtualMachine k = machine;
        return k != null ? k.counters() : lastCounters;
    }

    @Override
    public String consoleText() {
        return console.text();
    }

    @Override
    public long consoleBytesWritten() {
        return console.bytesWritten();
    }

    @Override
    public void sendInput(String text) {
        requireRunning("send input");
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int sent = input.receive(bytes, 0, bytes.length);
        if (sent < bytes.length) {
            throw new VmException(plan.id() + ": console input is full; the guest is not reading it");
        }
    }

    @Override
    public String awaitLine(String prefix, long fromByte, Duration timeout) {
        return console.awaitLine(prefix, fromByte, timeout, this::id);
    }

    @Override
    public Invocation invoke(Duration timeout) {
        if (plan.request().workload() != Workload.FUNCTION) {
            throw new VmException(plan.id() + " runs the " + plan.request().workload().label() + " workload; only function can be invoked");
        }
        synchronized (invocationLock) {
            requireRunning("invoke");
            int index = invocations + 1;
            Invocation done = console.invoke(index, () -> {
                sendInput(ConsoleLog.INVOKE_REQUEST);
                invocations = index; // sent: counted even if its result never comes
            }, timeout, this::id);
            RestoredMemory m = restored;
            if (m != null) {
                m.invocationDone();
            }
            return done;
        }
    }

    @Override
    public SnapshotSummary snapshot(Path file, boolean resume, Progress progress) {
        synchronized (invocationLock) {
            requireRunning("snapshot");
            VirtualMachine k = machine;
            try {
                k.pause();
            } catch (VcpuRuntimeException | IllegalStateException e) {
                // The guest ended just as the pause began (its exit stops the VM): refused as if it had ended before.
                requireRunning("snapshot");
                throw e;
            }
            boolean written = false;
            try {
                RestoredMemory m = restored;
                if (m != null) {
                    m.awaitFullLoad(); // the writer reads guest memory, which must all be present
                }

                MachineState state = new MachineState(parts.image().info(), plan.request(), plan.layouts(),
                        k.saveState(), k.vcpus().stream().map(Vcpu::saveState).toList(),
                        parts.codec().saveDevices(devices),
                        new SessionState(console.text(), console.bytesWritten(), console.resultCount(), invocations),
                        k.runtime());
                List<GuestMemory> memory = new ArrayList<>();
                for (int i = 0; i < plan.regions().size(); i++) {
                    memory.add(new GuestMemory(plan.layouts().get(i), k.memory().get(i).memory()));
                }
                SnapshotSummary summary = parts.writer().write(file, state, memory, progress);
                written = true;
                // A restore of this snapshot is likely next: have an empty VM of its layout made ahead.
                parts.runtime().expect(vmSpec(false)); // the layout is what counts: a spare is untouched either way
                LOG.info("{}: snapshot {} written ({} present pages, {} zero pages)", plan.id(), file,
                        summary.presentPages(), summary.zeroPages());
                return summary;
            } finally {
                if (resume || !written) {
                    k.resume(); // a failed snapshot never takes the VM down
                } else {
                    stop();
                }
            }
        }
    }

    @Override
    public Optional<RestoreStats> restoreStats() {
        RestoredMemory m = restored;
        return m == null ? Optional.empty() : m.stats();
    }

    @Override
    public Optional<RestoreStats> awaitLoaded(Duration timeout, Progress progress) {
        RestoredMemory m = restored;
        return m == null ? Optional.empty() : m.awaitLoaded(timeout, progress);
    }

    @Override
    public Path saveProfile() {
        RestoredMemory m = restored;
        if (m == null) {
            throw new VmException(plan.id() + " is not recording a working-set profile (restore it with --record-profile)");
        }
        return m.saveProfile();
    }

    @Override
    public Optional<GuestMemoryUse> memoryUse() {
        VirtualMachine k = machine;
        return k == null ? Optional.empty() : Optional.of(GuestMemoryAccounting.of(Map.of(id(), k.memory())).get(id()));
    }

    /** The runtime's memory regions (empty before the VM is made), for its fleet's accounting and for tests that look at the host mappings. */
    List<GuestMemoryRegion> memoryRegions() {
        VirtualMachine k = machine;
        return k == null ? List.of() : k.memory();
    }

    /** When the boot or restore was requested ({@link System#nanoTime()}). */
    long requestedNanos() {
        return bootNanos;
    }

    /** The vCPU index of a Linux thread, for blocktime; -1 for other threads. */
    int vcpuOfThread(int tid) {
        VirtualMachine k = machine;
        return k == null ? -1 : k.vcpuOfThread(tid);
    }

    /** A page could not be read while the guest runs: never run on with a wrong page; fail the VM. */
    void memoryFailed(RestoreFailure failure) {
        reason = "page " + failure.page() + " could not be loaded: " + failure.message();
        status = VmStatus.FAILED;
        LOG.error("{}: {}", plan.id(), reason, failure.cause());
        console.end("the VM failed: " + reason);
        // Not on the engine's thread: stopping waits for vCPUs, which may wait on the engine.
        Thread.ofPlatform().name("fail-" + plan.id()).start(() -> {
            VirtualMachine k = machine;
            if (k != null) {
                k.stop();
            }
        });
    }

    @Override
    public void stop() {
        if (status == VmStatus.RUNNING || status == VmStatus.PAUSED) {
            status = VmStatus.STOPPED;
        }
        release();
    }

    private void requireRunning(String what) {
        VmRefusals.requireRunning(what, plan.id(), status, exitCode, reason);
    }

    /** Frees the runtime's VM (threads, memory, fds) and the devices. Idempotent. */
    private synchronized void release() {
        console.end(status == VmStatus.EXITED ? "the guest exited with code " + exitCode
                : status == VmStatus.FAILED ? "the VM failed: " + reason : "the VM was stopped");
        // Ordering: vCPUs stop first, while the lazy restore still serves their faults; closing it
        // earlier would let a waiting vCPU see a zero page where the snapshot has data.
        if (machine != null) {
            machine.stop();
        }
        if (restored != null) {
            restored.close(); // keeps its figures for thaw:stats
        }
        if (machine != null) {
            lastCounters = machine.counters(); // final: the vCPUs have stopped
            machine.close();
            machine = null;
        }
        for (Device<?> d : devices.values()) {
            try {
                d.close();
            } catch (RuntimeException e) {
                LOG.warn("{}: closing device {} failed", plan.id(), d, e);
            }
        }
        devices.clear();
        onStopped.accept(this);
    }

    // DeviceContext: what the devices of this VM may use.

    @Override
    public String vmId() {
        return plan.id();
    }

    @Override
    public InterruptLine interruptLine(int irq) {
        return high -> {
            VirtualMachine k = machine;
            if (k != null) {
                k.setInterruptLine(irq, high);
            }
        };
    }

    @Override
    public ConsoleOutput console() {
        return console;
    }

    @Override
    public void guestExit(int code) {
        exitCode = code;
        status = VmStatus.EXITED;
        LOG.info("{}: guest exited with code {}", plan.id(), code);
        console.end("the guest exited with code " + code);
        // On the vCPU thread: stop() parks the vCPUs; the rest is freed when the user stops the VM.
        VirtualMachine k = machine;
        if (k != null) {
            k.stop();
        }
    }
}
