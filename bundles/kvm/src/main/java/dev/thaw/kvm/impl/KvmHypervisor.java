package dev.thaw.kvm.impl;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.VcpuRuntime;
import dev.thaw.api.runtime.VmSpec;
import dev.thaw.kvm.Hypervisor;
import dev.thaw.kvm.KvmRuntimeName;
import dev.thaw.kvm.KvmException;
import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.kvm.VirtualMachine;
import dev.thaw.kvm.VmOptions;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.kvm.Kvm;
import dev.thaw.linux.kvm.KvmConstants;
import dev.thaw.linux.kvm.VmFd;
import dev.thaw.support.runtime.HugePageAdvice;
import dev.thaw.support.runtime.VcpuThreadPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Hypervisor} service. Activation opens {@code /dev/kvm}, reads the host's facts once and
 * runs a throwaway VM through every step of a VM's life ({@link Warmup}), so the first real VM costs
 * what every later one does; it also starts the pool of vCPU threads ({@link VcpuThreadPool}). Where KVM cannot be used the service still exists, logs why, and every
 * {@link #createVm} tries again and says why it cannot work. Deactivation closes every VM it made,
 * then {@code /dev/kvm}.
 *
 * <p>Immediate: activated when the bundle starts, not on the first boot request, and kept while
 * nobody uses it (a delayed component would be deactivated and lose its warm state).
 */
@Component(service = VcpuRuntime.class, property = VcpuRuntime.NAME_PROPERTY + "=" + KvmRuntimeName.NAME, immediate = true)
@Designate(ocd = KvmHypervisor.Config.class)
public final class KvmHypervisor implements Hypervisor, AutoCloseable {

    @ObjectClassDefinition(name = "Thaw KVM hypervisor", description = "KVM on this host")
    public @interface Config {
        @AttributeDefinition(name = "Spare VM layouts", description = "For this many memory layouts (the last asked "
                + "for, e.g. by a snapshot), an empty VM with its memory registered is kept ready, so that a restore "
                + "skips creating it; 0 turns spares off", min = "0", max = "" + MAX_SPARE_LAYOUTS)
        int spareLayouts() default DEFAULT_SPARE_LAYOUTS;
    }

    static final int DEFAULT_SPARE_LAYOUTS = 2;
    static final int MAX_SPARE_LAYOUTS = 8;

    private static final Logger LOG = LoggerFactory.getLogger(KvmHypervisor.class);

    private final String device;
    private final Object lock = new Object();
    private final Set<KvmVm> vms = new LinkedHashSet<>();
    private final SaveableMsrs saveableMsrs = new SaveableMsrs();
    private Kvm kvm;
    private HostInfo host;
    /** Threads for vCPUs, started with the host; see {@link VcpuThreadPool}. */
    private VcpuThreadPool<KickSignal.Blocked> threads;
    /** KVM_CAP_XSAVE2 as the first VM reported it; -1 until then. See {@link #xsave2Size(VmFd)}. */
    private int xsave2Size = -1;
    private boolean closed;
    /** Why the last open failed while the device node was missing; null otherwise. Guarded by lock. */
    private String missingDevice;
    private final SpareVms spares;

    /** A configuration with a bad value at activation is refused with the reason logged; the default applies. */
    @Activate
    public KvmHypervisor(Config config) {
        this("/dev/kvm", spareLayouts(config, DEFAULT_SPARE_LAYOUTS, "the default"));
    }

    /**
     * A changed configuration applies at once; running VMs are not touched. One with a bad value is refused
     * with the reason logged, and the number before it stays.
     */
    @Modified
    public void modified(Config config) {
        spares.capacity(spareLayouts(config, spares.capacity(), "the number before it"));
    }

    static int spareLayouts(Config config, int instead, String insteadText) {
        int wanted = config.spareLayouts();
        if (wanted >= 0 && wanted <= MAX_SPARE_LAYOUTS) {
            return wanted;
        }
        LOG.warn("configuration {} refused: spareLayouts {} is out of range (0 to {}); {}, {}, stays in force",
                KvmHypervisor.class.getName(), wanted, MAX_SPARE_LAYOUTS, insteadText, instead);
        return instead;
    }

    /** For tests: no spare VMs, so that every VM and fd a test sees is one it made. */
    public KvmHypervisor() {
        this("/dev/kvm", 0);
    }

    /** For tests: a hypervisor on another device node, keeping spares for {@code spareLayouts} layouts. */
    public KvmHypervisor(String device, int spareLayouts) {
        this.device = device;
        this.spares = new SpareVms(spareLayouts, this::makeSpare);
        long start = System.nanoTime();
        try {
            synchronized (lock) {
                host();
            }
        } catch (KvmException e) {
            LOG.warn("KVM is not usable: {}; every VM creation will try again and fail with the reason", e.getMessage());
            return;
        }
        Warmup.run(this);
        LOG.debug("{} opened and warmed up in {} ms", device, (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public String name() {
        return KvmRuntimeName.NAME;
    }

    @Override
    public String description() {
        return "KVM on " + device + ": guest code runs on the host CPU";
    }

    /**
     * Tries {@code /dev/kvm} again each time, so a KVM that appears later is found; while the device node
     * is still missing, the answer is the last one without opening it again. That is the common case on a
     * machine without KVM, where every boot and restore asks (to choose a runtime): a failed open costs
     * two exceptions with their stack traces, about 0.3 ms on the path to a resumed VM.
     */
    @Override
    public Optional<String> unavailableReason() {
        synchronized (lock) {
            if (host == null && !closed && missingDevice != null && !Files.exists(Path.of(device))) {
                return Optional.of(missingDevice);
            }
            try {
                host();
                missingDevice = null;
                return Optional.empty();
            } catch (KvmException | IllegalStateException e) {
                missingDevice = !closed && !Files.exists(Path.of(device)) ? e.getMessage() : null;
                return Optional.of(e.getMessage());
            }
        }
    }

    /**
     * Thaw's VMs need no PIT (their guests keep time with the LAPIC timer), so none is made. Memory that may be
     * huge pages is advised so before anything touches it (a spare's memory is untouched too): KVM then maps
     * the guest's memory in 2 MiB pieces where the host has them.
     */
    @Override
    public VirtualMachine createVm(VmSpec spec) {
        VirtualMachine vm = createVm(VmOptions.named(spec.name()).withPit(false), spec.memory());
        if (spec.hugePages()) {
            adviseHugePages(vm);
        }
        return vm;
    }

    /** Where the kernel refuses the advice for one region it says so once; the VM runs on 4 KiB pages. */
    private static void adviseHugePages(VirtualMachine vm) {
        for (GuestMemoryRegion r : vm.memory()) {
            if (!HugePageAdvice.advise(vm.name(), r.hostAddress(), r.size())) {
                return;
            }
        }
    }

    @Override
    public void expect(VmSpec spec) {
        keepSpare(VmOptions.named(spec.name()).withPit(false), spec.memory());
    }

    @Override
    public VirtualMachine createVm(VmOptions options, List<MemoryRange> memory) {
        long start = System.nanoTime();
        SpareVms.Spare spare = spares.take(SpareVms.Shape.of(options, memory));
        if (spare == null) {
            VirtualMachine vm = createVm(options);
            try {
                for (MemoryRange r : memory) {
                    vm.addMemory(r.guestAddress(), r.size());
                }
                return vm;
            } catch (RuntimeException e) {
                vm.close();
                throw e;
            }
        }
        synchronized (lock) {
            if (closed) {
                spare.close();
                throw new IllegalStateException("the hypervisor service is deactivated");
            }
            KvmVm created = new KvmVm(this, options.name(), spare.vm(), host(), options.pit(), xsave2Size(spare.vm()), threads,
                    start);
            created.adoptMemory(memory, spare.mappings());
            vms.add(created);
            return created;
        }
    }

    @Override
    public void keepSpare(VmOptions options, List<MemoryRange> memory) {
        spares.want(SpareVms.Shape.of(options, memory));
    }

    /** Spare VMs ready now, for tests and diagnostics. */
    public int sparesReady() {
        return spares.ready();
    }

    /** On the spare thread: what createVm and addMemory do, without a VM object around it yet. */
    private SpareVms.Spare makeSpare(SpareVms.Shape shape) {
        VmFd vm;
        boolean identityMap;
        synchronized (lock) {
            identityMap = host().identityMap();
            try {
                vm = kvm.createVm(0);
            } catch (ErrnoException e) {
                throw new KvmException("create a spare VM: " + e.getMessage(), e);
            }
        }
        List<dev.thaw.linux.Mapping> mappings = new ArrayList<>();
        try {
            if (identityMap) {
                vm.setIdentityMapAddr(shape.identityMapAddress());
            }
            vm.setTssAddr(shape.tssAddress());
            for (int i = 0; i < shape.memory().size(); i++) {
                MemoryRange r = shape.memory().get(i);
                mappings.add(MemorySlots.map("spare VM", vm, i, r.guestAddress(), r.size()));
            }
            return new SpareVms.Spare(vm, mappings);
        } catch (RuntimeException e) {
            new SpareVms.Spare(vm, mappings).close();
            throw e;
        }
    }

    @Override
    public VirtualMachine createVm(VmOptions options) {
        long start = System.nanoTime();
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
                // Ordering: identity map and TSS addresses before any vCPU exists. The irqchip and PIT
                // come later, when first needed (see InKernelDevices.requireIrqchip).
                if (info.identityMap()) {
                    vm.setIdentityMapAddr(options.identityMapAddress());
                }
                vm.setTssAddr(options.tssAddress());
                KvmVm created = new KvmVm(this, name, vm, info, options.pit(), xsave2Size(vm), threads, start);
                vms.add(created);
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
        spares.close();
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
            if (threads != null) {
                threads.close();
                threads = null;
            }
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

    /** The host's saveable MSRs, probed on the first fresh vCPU ever asked about and reused after. */
    SaveableMsrs saveableMsrs() {
        return saveableMsrs;
    }

    /**
     * The XSAVE area size (KVM_CAP_XSAVE2, asked on a VM fd), asked of the first VM only: KVM computes
     * it from the host's supported XCR0 and the process's guest XSTATE permissions, which Thaw never
     * changes (no ARCH_REQ_XCOMP_GUEST_PERM), so every VM of this process gets the same answer.
     * 0 where KVM has only KVM_GET_XSAVE. Caller holds the lock.
     */
    private int xsave2Size(VmFd vm) {
        if (xsave2Size < 0) {
            xsave2Size = Math.max(0, vm.checkExtension(KvmConstants.KVM_CAP_XSAVE2));
            LOG.debug("XSAVE2 size: {}", xsave2Size);
        }
        return xsave2Size;
    }

    /** Opens {@code /dev/kvm} and reads the host's facts, once. Caller holds the lock. */
    private HostInfo host() {
        if (closed) {
            throw new IllegalStateException("the hypervisor service is deactivated");
        }
        if (host == null) {
            Kvm opened;
            try {
                opened = Kvm.open(device);
            } catch (ErrnoException e) {
                throw new KvmException("open " + device + ": " + e.errnoName() + " (" + Errno.description(e.errno()) + ")", e);
            }
            try {
                host = HostInfo.read(opened, device);
                kvm = opened;
                threads = KickSignal.newPool();
            } catch (RuntimeException | Error e) {
                opened.close();
                throw e;
            }
        }
        return host;
    }
}
