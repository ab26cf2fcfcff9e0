package dev.thaw.kvm.impl;

import dev.thaw.api.state.ClockData;
import dev.thaw.api.state.IoapicState;
import dev.thaw.api.state.PicState;
import dev.thaw.api.state.PitState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.kvm.ExitListener;
import dev.thaw.kvm.GuestMemoryRegion;
import dev.thaw.kvm.IoHandler;
import dev.thaw.kvm.KvmException;
import dev.thaw.kvm.RunState;
import dev.thaw.kvm.Vcpu;
import dev.thaw.kvm.VcpuSetup;
import dev.thaw.kvm.VirtualMachine;
import dev.thaw.kvm.VmExit;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.kvm.KvmConstants;
import dev.thaw.linux.kvm.VcpuFd;
import dev.thaw.linux.kvm.VmFd;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM: guest memory, vCPUs, their runner threads, and the pause/stop protocol.
 *
 * <p>Control: {@link #control} tells every runner what to do (RUN, PAUSE, STOP). It is written under
 * {@link #lock} before the runners are kicked (see {@link VcpuRunner}); runners report parked/ended
 * under the lock and {@link #changed} wakes whoever waits for them. {@link #pause()} returns when every
 * runner is parked (or ended); a parked runner has completed any pending I/O first.
 */
final class KvmVm implements VirtualMachine {

    private static final Logger LOG = LoggerFactory.getLogger(KvmVm.class);

    /**
     * The signal that kicks vCPU threads out of KVM_RUN. SIGURG is ignored by default and HotSpot installs
     * no handler for it (it uses SEGV, BUS, FPE, ILL, PIPE, XFSZ, USR2, HUP, INT, TERM, QUIT); vCPU threads
     * block it except inside KVM_RUN, so it never reaches a handler anyway.
     */
    static final int KICK_SIGNAL = Libc.SIGURG;
    /** How long pause() waits for every vCPU to park; a vCPU stuck in the I/O handler is the usual reason. */
    static final Duration PAUSE_TIMEOUT = Duration.ofSeconds(10);
    /** How often pause() re-kicks vCPUs that have not parked yet (insurance against a lost wake-up). */
    static final long REKICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** How long stop() and close() wait for the vCPU threads to end. */
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** How long start() waits for the threads to be ready (signal mask set, thread id known). */
    static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    /**
     * KVM_SET_CLOCK flags on restore: none. KVM_CLOCK_TSC_STABLE is reported by KVM_GET_CLOCK but not
     * accepted back by older kernels, and KVM_CLOCK_REALTIME would advance the guest clock by the host
     * time that passed since the snapshot; Thaw resumes the guest clock where it was saved.
     */
    static final long CLOCK_RESTORE_FLAGS = 0;

    enum Control { RUN, PAUSE, STOP }

    private record Region(GuestMemoryRegion region, Mapping mapping) {}

    private final KvmHypervisor hypervisor;
    private final String name;
    private final VmFd vmFd;
    private final HostInfo host;
    private final boolean hasPit;
    private final int xsave2Size;
    private final long pageSize = Libc.pageSize();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<Region> regions = new ArrayList<>();
    private final List<KvmVcpu> vcpus = new ArrayList<>();
    private final List<VcpuRunner> runners = new ArrayList<>();
    private final CreationTimes times;
    private RunState state = RunState.CREATED;
    private volatile Control control = Control.RUN;
    private VmExit exit;
    private ExitListener listener;
    private long[] saveableMsrs;
    /** Whether KVM_CREATE_IRQCHIP happened; written under the lock. */
    private volatile boolean irqchip;
    /** Whether KVM_CREATE_PIT2 happened. */
    private boolean pit;
    private int live;
    private boolean closing;

    /** @param requested when createVm was called, for the {@link CreationTimes} */
    KvmVm(KvmHypervisor hypervisor, String name, VmFd vmFd, HostInfo host, boolean hasPit, int xsave2Size,
            long requested) {
        this.hypervisor = hypervisor;
        this.name = name;
        this.vmFd = vmFd;
        this.host = host;
        this.hasPit = hasPit;
        this.xsave2Size = xsave2Size;
        this.times = new CreationTimes(requested);
    }

    @Override
    public String name() {
        return name;
    }

    Control control() {
        return control;
    }

    // ---- memory -------------------------------------------------------------------------------

    @Override
    public GuestMemoryRegion addMemory(long guestAddress, long size) {
        if (size <= 0 || size % pageSize != 0) {
            throw new IllegalArgumentException("VM " + name + ": memory size " + size
                    + " must be a positive multiple of the page size " + pageSize);
        }
        if (guestAddress < 0 || guestAddress % pageSize != 0) {
            throw new IllegalArgumentException("VM " + name + ": guest address 0x" + Long.toHexString(guestAddress)
                    + " must be page aligned (" + pageSize + ")");
        }
        long end;
        try {
            end = Math.addExact(guestAddress, size);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("VM " + name + ": memory at 0x" + Long.toHexString(guestAddress)
                    + " of " + size + " bytes wraps around", e);
        }
        long begin = System.nanoTime();
        lock.lock();
        try {
            requireOpen("add memory");
            for (Region r : regions) {
                GuestMemoryRegion g = r.region();
                if (guestAddress < g.guestAddress() + g.size() && g.guestAddress() < end) {
                    throw new IllegalArgumentException("VM " + name + ": guest range [0x" + Long.toHexString(guestAddress)
                            + ", 0x" + Long.toHexString(end) + ") overlaps slot " + g.slot() + " [0x"
                            + Long.toHexString(g.guestAddress()) + ", 0x" + Long.toHexString(g.guestAddress() + g.size()) + ")");
                }
            }
            int slot = regions.size();
            if (host.memorySlots() > 0 && slot >= host.memorySlots()) {
                throw new KvmException("VM " + name + ": all " + host.memorySlots() + " KVM memory slots are used");
            }
            Mapping mapping = kvm("map " + size + " bytes of guest memory", () -> Mapping.anonymous(size,
                    Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_NORESERVE));
            try {
                kvm("register memory slot " + slot, () -> {
                    vmFd.setUserMemoryRegion(slot, 0, guestAddress, size, mapping.address());
                    return null;
                });
            } catch (RuntimeException e) {
                mapping.close();
                throw e;
            }
            GuestMemoryRegion region = new GuestMemoryRegion(slot, guestAddress, size, mapping.address(),
                    mapping.segment());
            regions.add(new Region(region, mapping));
            times.memory(begin);
            return region;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<GuestMemoryRegion> memory() {
        lock.lock();
        try {
            return regions.stream().map(Region::region).toList();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public MemorySegment guestMemory(long guestAddress, long length) {
        for (GuestMemoryRegion r : memory()) {
            if (r.contains(guestAddress, length)) {
                return r.slice(guestAddress, length);
            }
        }
        throw new IndexOutOfBoundsException("VM " + name + ": guest range 0x" + Long.toHexString(guestAddress) + "+"
                + length + " is not inside one memory region");
    }

    // ---- vCPUs --------------------------------------------------------------------------------

    @Override
    public List<Vcpu> createVcpus(int count, VcpuSetup setup) {
        Objects.requireNonNull(setup, "setup");
        if (count <= 0) {
            throw new IllegalArgumentException("vCPU count " + count);
        }
        long begin = System.nanoTime();
        List<KvmVcpu> created = new ArrayList<>();
        lock.lock();
        try {
            if (state != RunState.CREATED) {
                throw new IllegalStateException("VM " + name + ": vCPUs can only be added before start (it is " + state + ")");
            }
            int first = vcpus.size();
            if (host.maxVcpus() > 0 && first + count > host.maxVcpus()) {
                throw new IllegalArgumentException("VM " + name + ": " + (first + count) + " vCPUs, KVM allows "
                        + host.maxVcpus());
            }
            requireIrqchip();
            try {
                for (int i = first; i < first + count; i++) {
                    int id = i;
                    VcpuFd fd = kvm("create vCPU " + id, () -> vmFd.createVcpu(id, host.vcpuMmapSize()));
                    created.add(new KvmVcpu(this, id, fd, xsave2Size));
                    kvm("set CPUID of vCPU " + id, () -> {
                        fd.setCpuid2(CpuidTemplate.forVcpu(host.supportedCpuid(), id));
                        return null;
                    });
                }
                if (saveableMsrs == null) {
                    saveableMsrs = kvm("probe the saveable MSRs", () -> hypervisor.saveableMsrs()
                            .get(created.getFirst().fd(), host.msrIndexList(), name));
                }
            } catch (RuntimeException | Error e) {
                for (KvmVcpu v : created) {
                    try {
                        v.fd().close();
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
            vcpus.addAll(created);
            for (KvmVcpu v : created) {
                setup.configure(v);
            }
            times.vcpus(begin);
            return List.copyOf(created);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Vcpu> vcpus() {
        lock.lock();
        try {
            return List.copyOf(vcpus);
        } finally {
            lock.unlock();
        }
    }

    long[] saveableMsrs() {
        lock.lock();
        try {
            if (saveableMsrs == null) {
                throw new IllegalStateException("VM " + name + " has no vCPUs yet");
            }
            return saveableMsrs.clone();
        } finally {
            lock.unlock();
        }
    }

    // ---- running ------------------------------------------------------------------------------

    @Override
    public void start(IoHandler io, ExitListener exitListener) {
        Objects.requireNonNull(io, "io");
        Objects.requireNonNull(exitListener, "exitListener");
        long begin = System.nanoTime();
        CountDownLatch ready;
        lock.lock();
        try {
            if (state != RunState.CREATED) {
                throw new IllegalStateException("VM " + name + " can be started once; it is " + state);
            }
            if (vcpus.isEmpty()) {
                throw new IllegalStateException("VM " + name + " has no vCPUs");
            }
            ready = new CountDownLatch(vcpus.size());
            for (KvmVcpu v : vcpus) {
                runners.add(new VcpuRunner(this, v, io, ready));
            }
            listener = exitListener;
            control = Control.RUN;
            state = RunState.RUNNING;
            live = runners.size();
            for (VcpuRunner r : runners) {
                r.thread().start();
            }
        } finally {
            lock.unlock();
        }
        try {
            if (!ready.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new KvmException("VM " + name + ": vCPU threads not ready within " + START_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvmException("VM " + name + ": interrupted while starting", e);
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("VM {} started {} vCPU(s) {}", name, runners.size(), times.summary(begin));
        }
    }

    @Override
    public void pause() {
        lock.lock();
        try {
            if (state == RunState.PAUSED) {
                return;
            }
            if (state != RunState.RUNNING || control == Control.STOP) {
                throw new IllegalStateException("VM " + name + " cannot pause: it is "
                        + (control == Control.STOP && state == RunState.RUNNING ? "stopping" : state)
                        + exitSuffix());
            }
            control = Control.PAUSE;
            kickRunning();
            long deadline = System.nanoTime() + PAUSE_TIMEOUT.toNanos();
            while (!allParkedOrEnded()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new KvmException("VM " + name + ": vCPU(s) " + unparked() + " did not pause within "
                            + PAUSE_TIMEOUT + " (stuck in the I/O handler?)");
                }
                changed.awaitNanos(Math.min(left, REKICK_NANOS));
                kickRunning();
            }
            if (exit != null) {
                throw new KvmException("VM " + name + " ended while pausing: " + exit.reason());
            }
            state = RunState.PAUSED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvmException("VM " + name + ": interrupted while pausing", e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void resume() {
        lock.lock();
        try {
            if (state == RunState.RUNNING && control == Control.RUN) {
                return;
            }
            if (state == RunState.PAUSED || (state == RunState.RUNNING && control == Control.PAUSE)) {
                control = Control.RUN;
                state = RunState.RUNNING;
                changed.signalAll();
                return;
            }
            throw new IllegalStateException("VM " + name + " cannot resume: it is " + state + exitSuffix());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void stop() {
        List<Thread> threads = new ArrayList<>();
        lock.lock();
        try {
            if (state == RunState.CREATED) {
                state = RunState.STOPPED;
                return;
            }
            if (state == RunState.STOPPED || state == RunState.CLOSED) {
                return;
            }
            if (exit == null) {
                exit = new VmExit(VmExit.Kind.STOPPED, -1, "stopped by the host", "", null);
            }
            if (state == RunState.PAUSED) {
                state = RunState.RUNNING;
            }
            control = Control.STOP;
            changed.signalAll();
            kickRunning();
            for (VcpuRunner r : runners) {
                if (r.thread() != Thread.currentThread()) {
                    threads.add(r.thread());
                }
            }
        } finally {
            lock.unlock();
        }
        joinAll(threads);
    }

    @Override
    public RunState runState() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<VmExit> exit() {
        lock.lock();
        try {
            return state == RunState.STOPPED || state == RunState.CLOSED ? Optional.ofNullable(exit) : Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<VmExit> awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (state != RunState.STOPPED && state != RunState.CLOSED) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Optional.empty();
                }
                changed.awaitNanos(left);
            }
            return Optional.ofNullable(exit);
        } finally {
            lock.unlock();
        }
    }

    /** A runner parks; returns true to run on, false to end (STOP). */
    boolean park(VcpuRunner runner) {
        lock.lock();
        try {
            runner.parked = true;
            changed.signalAll();
            while (control == Control.PAUSE) {
                changed.awaitUninterruptibly();
            }
            runner.parked = false;
            return control == Control.RUN;
        } finally {
            lock.unlock();
        }
    }

    /** A vCPU hit an exit that ends the VM: the first such exit is the VM's; everyone else stops. */
    void fail(VmExit failure) {
        boolean first;
        lock.lock();
        try {
            first = exit == null;
            if (first) {
                exit = failure;
            }
            control = Control.STOP;
            changed.signalAll();
            kickRunning();
        } finally {
            lock.unlock();
        }
        if (first) {
            LOG.error("VM {} ended: {}\n{}", name, failure.reason(), failure.registerDump(), failure.cause());
        } else {
            LOG.debug("VM {}: after the VM ended: {}", name, failure.reason());
        }
    }

    /** A runner left its loop; the last one reports the VM's exit to the listener. */
    void runnerEnded(VcpuRunner runner) {
        VmExit report = null;
        ExitListener notify = null;
        lock.lock();
        try {
            runner.ended = true;
            runner.parked = false;
            live--;
            if (live == 0) {
                if (exit == null) {
                    exit = new VmExit(VmExit.Kind.STOPPED, -1, "every vCPU thread ended", "", null);
                }
                if (state != RunState.CLOSED) {
                    state = RunState.STOPPED;
                }
                report = exit;
                notify = listener;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (report != null) {
            if (report.kind() == VmExit.Kind.STOPPED) {
                LOG.info("VM {} stopped: {}", name, report.reason());
            }
            try {
                notify.vmExited(report);
            } catch (RuntimeException | Error e) {
                LOG.error("VM {}: exit listener failed", name, e);
            }
        }
    }

    // ---- interrupts and VM state --------------------------------------------------------------

    @Override
    public void setIrqLine(int irq, boolean level) {
        requireOpen("set IRQ line " + irq);
        if (!irqchip) {
            lock.lock();
            try {
                requireIrqchip();
            } finally {
                lock.unlock();
            }
        }
        kvm("KVM_IRQ_LINE " + irq, () -> {
            vmFd.irqLine(irq, level ? 1 : 0);
            return null;
        });
    }

    /** Ordering: none is required between these reads; PIT, clock, then the irqchip mirrors the restore. */
    @Override
    public VmArchState saveArchState() {
        requireNotRunningWithIrqchip("save VM state");
        return kvm("save VM state", () -> new VmArchState(
                hasPit ? vmFd.getPit2() : null,
                vmFd.getClock(),
                vmFd.getPic(KvmConstants.KVM_IRQCHIP_PIC_MASTER),
                vmFd.getPic(KvmConstants.KVM_IRQCHIP_PIC_SLAVE),
                vmFd.getIoapic()));
    }

    /**
     * Ordering (as Firecracker restores a VM): PIT2 first, then the clock, then the irqchip (PIC master,
     * PIC slave, IOAPIC), all before any vCPU runs. The clock is set with {@link #CLOCK_RESTORE_FLAGS}.
     */
    @Override
    public void restoreArchState(VmArchState saved) {
        requireNotRunningWithIrqchip("restore VM state");
        if (saved.pit() != null && !hasPit) {
            throw new IllegalArgumentException("VM " + name + ": the state has a PIT but this VM was created without one");
        }
        kvm("restore VM state", () -> {
            PitState pit = saved.pit();
            if (pit != null) {
                vmFd.setPit2(pit);
            }
            ClockData clock = saved.clock();
            vmFd.setClock(new ClockData(clock.clock(), CLOCK_RESTORE_FLAGS, 0, 0));
            PicState master = saved.picMaster();
            PicState slave = saved.picSlave();
            IoapicState ioapic = saved.ioapic();
            vmFd.setPic(KvmConstants.KVM_IRQCHIP_PIC_MASTER, master);
            vmFd.setPic(KvmConstants.KVM_IRQCHIP_PIC_SLAVE, slave);
            vmFd.setIoapic(ioapic);
            return null;
        });
    }

    // ---- closing ------------------------------------------------------------------------------

    @Override
    public void close() {
        lock.lock();
        try {
            if (closing) {
                return;
            }
            for (VcpuRunner r : runners) {
                if (r.thread() == Thread.currentThread() && !r.ended) {
                    throw new IllegalStateException("VM " + name + ": close() from vCPU thread "
                            + r.thread().getName() + " inside its run loop; call stop() there and close() elsewhere");
                }
            }
            closing = true;
        } finally {
            lock.unlock();
        }
        stop();
        List<String> stillRunning = new ArrayList<>();
        lock.lock();
        try {
            for (VcpuRunner r : runners) {
                if (r.thread().isAlive() && r.thread() != Thread.currentThread() && !r.ended) {
                    stillRunning.add(r.thread().getName());
                }
            }
            state = RunState.CLOSED;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (!stillRunning.isEmpty()) {
            // Closing is still memory-safe: the mappings' arenas refuse Java access after close, and
            // KVM fails a vCPU whose memory or fd went away.
            LOG.error("VM {}: vCPU threads {} did not end within {}; closing their resources anyway",
                    name, stillRunning, STOP_TIMEOUT);
        }
        RuntimeException failure = null;
        for (KvmVcpu v : vcpus) {
            failure = closeQuietly(v.fd(), failure);
        }
        for (Region r : regions) {
            failure = closeQuietly(r.mapping(), failure);
        }
        failure = closeQuietly(vmFd, failure);
        hypervisor.closed(this);
        LOG.debug("VM {} closed", name);
        if (failure != null) {
            throw failure;
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    void requireNotRunning(String what) {
        lock.lock();
        try {
            if (state == RunState.RUNNING) {
                throw new IllegalStateException("VM " + name + ": cannot " + what + " while the VM runs; pause() it first");
            }
            requireOpen(what);
        } finally {
            lock.unlock();
        }
    }

    private void requireNotRunningWithIrqchip(String what) {
        lock.lock();
        try {
            requireNotRunning(what);
            requireIrqchip();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Creates the in-kernel irqchip, then the PIT if asked for, unless done already. Caller holds the lock.
     *
     * <p>Ordering: the irqchip before any vCPU, the PIT after the irqchip, and both as late as that
     * allows: before the first vCPU, or at the first IRQ line or VM state call. So the memory added
     * right after createVm, as boot and restore do, is registered before the irqchip: KVM makes the
     * first memory slot registered after KVM_CREATE_IRQCHIP wait for an SRCU grace period (5-7 ms
     * here, gone when 20 ms pass in between), while a slot registered first waits for nothing.
     * Firecracker uses the same order (memory, irqchip, vCPUs).
     */
    private void requireIrqchip() {
        if (!irqchip) {
            requireOpen("create the irqchip");
            kvm("create the in-kernel irqchip", () -> {
                vmFd.createIrqchip();
                return null;
            });
            irqchip = true;
        }
        if (hasPit && !pit) {
            kvm("create the in-kernel PIT", () -> {
                vmFd.createPit2(0);
                return null;
            });
            pit = true;
        }
    }

    private void requireOpen(String what) {
        if (state == RunState.CLOSED || closing) {
            throw new IllegalStateException("VM " + name + " is closed: cannot " + what);
        }
    }

    /** Kicks every runner that is neither parked nor ended. Caller holds the lock. */
    private void kickRunning() {
        int pid = Libc.getpid();
        for (VcpuRunner r : runners) {
            if (!r.parked && !r.ended && r.tid() != 0) {
                try {
                    Libc.tgkill(pid, r.tid(), KICK_SIGNAL);
                } catch (ErrnoException e) {
                    if (e.errno() != Errno.ESRCH) {
                        throw new KvmException("VM " + name + ": could not kick " + r.thread().getName(), e);
                    }
                }
            }
        }
    }

    private boolean allParkedOrEnded() {
        for (VcpuRunner r : runners) {
            if (!r.parked && !r.ended) {
                return false;
            }
        }
        return true;
    }

    private List<Integer> unparked() {
        return runners.stream().filter(r -> !r.parked && !r.ended).map(VcpuRunner::index).toList();
    }

    private String exitSuffix() {
        return exit == null ? "" : " (" + exit.reason() + ")";
    }

    private void joinAll(List<Thread> threads) {
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        boolean interrupted = false;
        for (Thread t : threads) {
            while (t.isAlive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    LOG.error("VM {}: {} did not end within {}", name, t.getName(), STOP_TIMEOUT);
                    break;
                }
                try {
                    t.join(Duration.ofNanos(left));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private <T> T kvm(String what, Supplier<T> call) {
        try {
            return call.get();
        } catch (ErrnoException e) {
            throw new KvmException("VM " + name + ": " + what + ": " + e.getMessage(), e);
        }
    }

    /** Closes {@code c}; returns the first failure so far, later ones added as suppressed. */
    private static RuntimeException closeQuietly(AutoCloseable c, RuntimeException failure) {
        try {
            c.close();
        } catch (Exception e) {
            if (failure == null) {
                return e instanceof RuntimeException re ? re : new KvmException(e.getMessage(), e);
            }
            failure.addSuppressed(e);
        }
        return failure;
    }
}
