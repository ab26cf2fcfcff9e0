package dev.thaw.kvm.impl;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.kvm.Hypervisor;
import dev.thaw.kvm.KvmException;
import dev.thaw.kvm.VirtualMachine;
import dev.thaw.kvm.VmOptions;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.kvm.Kvm;
import dev.thaw.linux.kvm.KvmConstants;
import dev.thaw.linux.kvm.VmFd;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Hypervisor} service. Opens {@code /dev/kvm} on first use (so the service exists, and says
 * why it cannot work, on hosts without KVM) and on deactivation closes every VM it made, then
 * {@code /dev/kvm}.
 */
@Component(service = Hypervisor.class)
public final class KvmHypervisor implements Hypervisor, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KvmHypervisor.class);

    /** What every VM needs to know about this host's KVM, read once. */
    record HostInfo(int vcpuMmapSize, List<CpuidEntry> supportedCpuid, long[] msrIndexList,
            boolean identityMap, int memorySlots, int maxVcpus) {}

    private final String device;
    private final Object lock = new Object();
    private final Set<KvmVm> vms = new LinkedHashSet<>();
    private Kvm kvm;
    private HostInfo host;
    private boolean closed;

    @Activate
    public KvmHypervisor() {
        this("/dev/kvm");
    }

    /** For tests: a hypervisor on another device node. */
    public KvmHypervisor(String device) {
        this.device = device;
    }

    @Override
    public VirtualMachine createVm(VmOptions options) {
        synchronized (lock) {
            HostInfo info = host();
            String name = options.name();
            VmFd vm;
            try {
                vm = kvm.createVm(0);
            } catch (ErrnoException e) {
                throw new KvmException("create VM " + name + ": " + e.getMessage(), e);
            }
            try {
                // Ordering: identity map and TSS addresses and the irqchip before any vCPU exists;
                // the PIT after the irqchip.
                if (info.identityMap()) {
                    vm.setIdentityMapAddr(options.identityMapAddress());
                }
                vm.setTssAddr(options.tssAddress());
                vm.createIrqchip();
                if (options.pit()) {
                    vm.createPit2(0);
                }
                int xsave2 = Math.max(0, vm.checkExtension(KvmConstants.KVM_CAP_XSAVE2));
                KvmVm created = new KvmVm(this, name, vm, info, options.pit(), xsave2);
                vms.add(created);
                LOG.debug("VM {} created (PIT: {}, XSAVE2 size: {})", name, options.pit(), xsave2);
                return created;
            } catch (RuntimeException | Error e) {
                try {
                    vm.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                if (e instanceof ErrnoException errno) {
                    throw new KvmException("create VM " + name + ": " + errno.getMessage(), errno);
                }
                throw e;
            }
        }
    }

    /** Closes every VM still open, then {@code /dev/kvm}. */
    @Deactivate
    @Override
    public void close() {
        List<KvmVm> open;
        synchronized (lock) {
            closed = true;
            open = new ArrayList<>(vms);
        }
        for (KvmVm vm : open) {
            try {
                vm.close();
            } catch (RuntimeException e) {
                LOG.error("closing VM {} failed", vm.name(), e);
            }
        }
        synchronized (lock) {
            if (kvm != null) {
                kvm.close();
                kvm = null;
            }
        }
    }

    void closed(KvmVm vm) {
        synchronized (lock) {
            vms.remove(vm);
        }
    }

    private HostInfo host() {
        if (closed) {
            throw new IllegalStateException("the hypervisor service is deactivated");
        }
        if (host == null) {
            try {
                Kvm opened = Kvm.open(device);
                try {
                    int version = opened.apiVersion();
                    if (version != KvmConstants.KVM_API_VERSION) {
                        throw new KvmException(device + " speaks KVM API " + version + ", Thaw needs "
                                + KvmConstants.KVM_API_VERSION);
                    }
                    for (int cap : new int[] {KvmConstants.KVM_CAP_IRQCHIP, KvmConstants.KVM_CAP_USER_MEMORY,
                            KvmConstants.KVM_CAP_EXT_CPUID, KvmConstants.KVM_CAP_SET_TSS_ADDR,
                            KvmConstants.KVM_CAP_IMMEDIATE_EXIT}) {
                        if (opened.checkExtension(cap) <= 0) {
                            throw new KvmException(device + " lacks KVM capability " + cap + ", which Thaw needs");
                        }
                    }
                    host = new HostInfo(opened.vcpuMmapSize(), List.copyOf(opened.supportedCpuid()),
                            opened.msrIndexList(),
                            opened.checkExtension(KvmConstants.KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0,
                            opened.checkExtension(KvmConstants.KVM_CAP_NR_MEMSLOTS),
                            Math.max(opened.checkExtension(KvmConstants.KVM_CAP_MAX_VCPUS),
                                    opened.checkExtension(KvmConstants.KVM_CAP_NR_VCPUS)));
                    kvm = opened;
                } catch (RuntimeException | Error e) {
                    opened.close();
                    throw e;
                }
            } catch (ErrnoException e) {
                throw new KvmException("open " + device + ": " + e.getMessage(), e);
            }
        }
        return host;
    }
}
