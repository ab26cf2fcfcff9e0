package dev.thaw.emulated.impl;

import dev.thaw.api.runtime.VcpuRuntime;
import dev.thaw.api.runtime.VcpuRuntimeException;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.runtime.VmSpec;
import dev.thaw.support.runtime.VcpuThreadPool;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vCPU runtime that needs no KVM: each vCPU is an x86-64 interpreter on its own platform thread,
 * over guest memory this process maps, with the local APICs, IOAPIC and PICs as device models. It runs
 * wherever Thaw runs; guest code runs far slower than on KVM, with the same snapshots, restores and
 * policies. Deactivation closes every VM it made.
 */
@Component(service = VcpuRuntime.class, property = VcpuRuntime.NAME_PROPERTY + "=" + EmulatedRuntime.NAME, immediate = true)
public final class EmulatedRuntime implements VcpuRuntime, AutoCloseable {

    public static final String NAME = "emulated";
    /** Waiting vCPU threads are named {@code thaw-emulated-pool-<n>}; only a running vCPU's is {@code vcpu-...}. */
    static final String POOL_NAME = "thaw-emulated-pool";
    private static final Logger LOG = LoggerFactory.getLogger(EmulatedRuntime.class);

    private final Set<EmulatedVm> vms = new LinkedHashSet<>();
    private final VcpuThreadPool<Void> threads = new VcpuThreadPool<>(POOL_NAME, VcpuThreadPool.ThreadSetUp.none());
    private boolean closed;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "an x86-64 interpreter per vCPU thread, with APIC, IOAPIC and PIC models; needs no KVM";
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public VirtualMachine createVm(VmSpec spec) {
        synchronized (vms) {
            if (closed) {
                throw new VcpuRuntimeException("the emulated runtime is deactivated");
            }
            EmulatedVm vm = new EmulatedVm(spec, threads, this::closed);
            vms.add(vm);
            return vm;
        }
    }

    private void closed(EmulatedVm vm) {
        synchronized (vms) {
            vms.remove(vm);
        }
    }

    @Deactivate
    @Override
    public void close() {
        List<EmulatedVm> open;
        synchronized (vms) {
            closed = true;
            open = new ArrayList<>(vms);
        }
        for (EmulatedVm vm : open) {
            try {
                vm.close();
            } catch (RuntimeException e) {
                LOG.error("closing VM {} failed", vm.name(), e);
            }
        }
        threads.close();
    }
}
