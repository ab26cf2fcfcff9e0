package dev.thaw.kvm.impl;

import dev.thaw.api.state.VmArchState;
import dev.thaw.api.runtime.ExitListener;
import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.IoHandler;
import dev.thaw.kvm.KvmException;
import dev.thaw.api.runtime.RunState;
import dev.thaw.kvm.Vcpu;
import dev.thaw.kvm.VcpuSetup;
import dev.thaw.kvm.VirtualMachine;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.linux.kvm.VcpuFd;
import dev.thaw.linux.kvm.VmFd;
import dev.thaw.support.runtime.VcpuThreadPool;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM: its vCPUs, and the parts that do the rest, all guarded by one lock, the {@link VmLifecycle}'s:
 * {@link MemorySlots} (guest memory), {@link InKernelDevices} (irqchip, PIT, their state),
 * {@link VcpuThreads} (vCPU threads, pause protocol) and the lifecycle itself (run state, exits).
 */
final class KvmVm implements VirtualMachine {

    private static final Logger LOG = LoggerFactory.getLogger(KvmVm.class);

    private final KvmHypervisor hypervisor;
    private final String name;
    /** Names the VM in error messages. */
    private final String context;
    private final VmFd vmFd;
    private final HostInfo host;
    private final int xsave2Size;
    private final VmLifecycle life;
    private final MemorySlots memory;
    private final InKernelDevices devices;
    private final VcpuThreads threads;
    private final CreationTimes times;
    /** Guarded by the lifecycle lock, as is {@link #saveableMsrs}. */
    private final List<KvmVcpu> vcpus = new ArrayList<>();
    private long[] saveableMsrs;

    /** @param requested when createVm was called, for the {@link CreationTimes} */
    KvmVm(KvmHypervisor hypervisor, String name, VmFd vmFd, HostInfo host, boolean hasPit, int xsave2Size,
            VcpuThreadPool<KickSignal.Blocked> pool, long requested) {
        this.hypervisor = hypervisor;
        this.name = name;
        this.context = "VM " + name;
        this.vmFd = vmFd;
        this.host = host;
        this.xsave2Size = xsave2Size;
        this.life = new VmLifecycle(name);
        this.memory = new MemorySlots(name, vmFd, life, host.memorySlots());
        this.devices = new InKernelDevices(name, vmFd, life, hasPit);
        this.threads = new VcpuThreads(name, life, pool);
        this.times = new CreationTimes(requested);
    }

    @Override
    public String name() {
        return name;
    }

    /** What this host's KVM offers. */
    HostInfo host() {
        return host;
    }

    @Override
    public GuestMemoryRegion addMemory(long guestAddress, long size) {
        long begin = System.nanoTime();
        GuestMemoryRegion region = memory.add(guestAddress, size);
        times.memory(begin);
        return region;
    }

    /** Memory a spare VM registered before this VM was made around its fd (see {@link SpareVms}). */
    void adoptMemory(List<dev.thaw.api.runtime.MemoryRange> ranges, List<dev.thaw.linux.Mapping> mappings) {
        memory.adopt(ranges, mappings);
    }

    @Override
    public List<GuestMemoryRegion> memory() {
        return memory.regions();
    }

    @Override
    public MemorySegment guestMemory(long guestAddress, long length) {
        return memory.guestMemory(guestAddress, length);
    }

    /**
     * Ordering: the irqchip before the first vCPU (see {@link InKernelDevices#requireIrqchip}); each
     * vCPU's CPUID before anything else touches it, since CPUID decides which MSRs and features exist.
     */
    @Override
    public List<Vcpu> createVcpus(int count, VcpuSetup setup) {
        Objects.requireNonNull(setup, "setup");
        if (count <= 0) {
            throw new IllegalArgumentException("vCPU count " + count);
        }
        long begin = System.nanoTime();
        List<KvmVcpu> created = new ArrayList<>();
        life.lock.lock();
        try {
            if (life.state != RunState.CREATED) {
                throw new IllegalStateException("VM " + name + ": vCPUs can only be added before start (it is " + life.state + ")");
            }
            int first = vcpus.size();
            if (host.maxVcpus() > 0 && first + count > host.maxVcpus()) {
                throw new IllegalArgumentException("VM " + name + ": " + (first + count) + " vCPUs, KVM allows "
                        + host.maxVcpus());
            }
            devices.requireIrqchip();
            try {
                for (int i = first; i < first + count; i++) {
                    int id = i;
                    VcpuFd fd = KvmCalls.call(context, "create vCPU " + id,
                            () -> vmFd.createVcpu(id, host.vcpuMmapSize()));
                    created.add(new KvmVcpu(this, id, fd, xsave2Size));
                    KvmCalls.run(context, "set CPUID of vCPU " + id,
                            () -> fd.setCpuid2(CpuidTemplate.forVcpu(host.supportedCpuid(), id)));
                }
                if (saveableMsrs == null) {
                    saveableMsrs = KvmCalls.call(context, "probe the saveable MSRs", () -> hypervisor.saveableMsrs()
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
            life.lock.unlock();
        }
    }

    @Override
    public List<Vcpu> vcpus() {
        life.lock.lock();
        try {
            return List.copyOf(vcpus);
        } finally {
            life.lock.unlock();
        }
    }

    /** The saveable MSR indices in restore order (a copy). */
    long[] saveableMsrs() {
        life.lock.lock();
        try {
            if (saveableMsrs == null) {
                throw new IllegalStateException("VM " + name + " has no vCPUs yet");
            }
            return saveableMsrs.clone();
        } finally {
            life.lock.unlock();
        }
    }

    @Override
    public void start(IoHandler io, ExitListener listener) {
        Objects.requireNonNull(io, "io");
        Objects.requireNonNull(listener, "listener");
        long begin = System.nanoTime();
        threads.start(vcpus, io, listener);
        if (LOG.isDebugEnabled()) {
            LOG.debug("VM {} started {} vCPU(s) {}", name, vcpus().size(), times.summary(begin));
        }
    }

    @Override
    public void pause() {
        threads.pause();
    }

    @Override
    public void resume() {
        threads.resume();
    }

    @Override
    public void stop() {
        threads.stop();
    }

    @Override
    public RunState runState() {
        return life.runState();
    }

    @Override
    public Optional<VmExit> exit() {
        return life.exit();
    }

    @Override
    public Optional<VmExit> awaitExit(Duration timeout) throws InterruptedException {
        return life.awaitExit(timeout);
    }

    @Override
    public int vcpuOfThread(int tid) {
        return threads.vcpuOfThread(tid);
    }

    @Override
    public void setIrqLine(int irq, boolean level) {
        devices.setIrqLine(irq, level);
    }

    @Override
    public VmArchState saveArchState() {
        return devices.save();
    }

    @Override
    public void restoreArchState(VmArchState state) {
        devices.restore(state);
    }

    /**
     * Ordering: stop the vCPU threads (bounded), then close the vCPU fds, unmap guest memory, and close
     * the VM fd last (KVM frees the VM when its last fd goes).
     */
    @Override
    public void close() {
        life.lock.lock();
        try {
            if (life.closing) {
                return;
            }
            threads.refuseCallFromRunLoop("close()");
            life.closing = true;
        } finally {
            life.lock.unlock();
        }
        threads.stop();
        List<String> stillRunning;
        life.lock.lock();
        try {
            stillRunning = threads.stillRunning();
            life.state = RunState.CLOSED;
            life.changed.signalAll();
        } finally {
            life.lock.unlock();
        }
        if (!stillRunning.isEmpty()) {
            // Closing is still memory-safe: the mappings' arenas refuse Java access after close, and
            // KVM fails a vCPU whose memory or fd went away.
            LOG.error("VM {}: vCPU threads {} did not end within {}; closing their resources anyway",
                    name, stillRunning, VcpuThreads.STOP_TIMEOUT);
        }
        RuntimeException failure = null;
        for (KvmVcpu v : vcpus) {
            failure = closeQuietly(v.fd(), failure);
        }
        failure = memory.close(failure);
        failure = closeQuietly(vmFd, failure);
        hypervisor.closed(this);
        LOG.debug("VM {} closed", name);
        if (failure != null) {
            throw failure;
        }
    }

    /** For {@link KvmVcpu}: state access only while the guest does not run ("cannot {what} of vCPU {vcpu}"). */
    void requireNotRunning(String what, int vcpu) {
        life.requireNotRunning(what, vcpu);
    }

    /** Closes {@code c}; returns the first failure so far, later ones added as suppressed. */
    static RuntimeException closeQuietly(AutoCloseable c, RuntimeException failure) {
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
