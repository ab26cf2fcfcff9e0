package dev.thaw.kvm.impl;

import dev.thaw.api.state.ClockData;
import dev.thaw.api.state.VmArchState;
import dev.thaw.kvm.KvmException;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.kvm.KvmConstants;
import dev.thaw.linux.kvm.VmFd;

/**
 * A VM's in-kernel devices: the irqchip (PICs, IOAPIC, local APICs) and the optional PIT, their IRQ
 * lines, and their state (with kvmclock) saved and restored. Guarded by the {@link VmLifecycle} lock.
 */
final class InKernelDevices {

    /**
     * KVM_SET_CLOCK flags on restore: none. KVM_CLOCK_TSC_STABLE is reported by KVM_GET_CLOCK but not
     * accepted back by older kernels, and KVM_CLOCK_REALTIME would advance the guest clock by the host
     * time that passed since the snapshot; Thaw resumes the guest clock where it was saved.
     */
    static final long CLOCK_RESTORE_FLAGS = 0;

    private final String vmName;
    /** Names the VM in error messages. */
    private final String context;
    private final VmFd vmFd;
    private final VmLifecycle life;
    private final boolean hasPit;
    /** Whether KVM_CREATE_IRQCHIP happened; written under the lock. */
    private volatile boolean irqchip;
    /** Whether KVM_CREATE_PIT2 happened. */
    private boolean pit;

    InKernelDevices(String vmName, VmFd vmFd, VmLifecycle life, boolean hasPit) {
        this.vmName = vmName;
        this.context = "VM " + vmName;
        this.vmFd = vmFd;
        this.life = life;
        this.hasPit = hasPit;
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
    void requireIrqchip() {
        if (!irqchip) {
            life.requireOpen("create the irqchip");
            KvmCalls.run(context, "create the in-kernel irqchip", vmFd::createIrqchip);
            irqchip = true;
        }
        if (hasPit && !pit) {
            KvmCalls.run(context, "create the in-kernel PIT", () -> vmFd.createPit2(0));
            pit = true;
        }
    }

    /** KVM_IRQ_LINE. Called by devices, often from vCPU threads: no lock once the irqchip exists. */
    void setIrqLine(int irq, boolean level) {
        if (!irqchip) {
            life.lock.lock();
            try {
                requireIrqchip();
            } finally {
                life.lock.unlock();
            }
        }
        try {
            vmFd.irqLine(irq, level ? 1 : 0);
        } catch (ErrnoException e) {
            life.lock.lock();
            try {
                life.requireOpen("set IRQ line " + irq);
            } finally {
                life.lock.unlock();
            }
            throw new KvmException("VM " + vmName + ": KVM_IRQ_LINE " + irq + ": " + e.getMessage(), e);
        }
    }

    /** Ordering: none is required between these reads; PIT, clock, then the irqchip mirrors the restore. */
    VmArchState save() {
        requireNotRunningWithIrqchip("save VM state");
        return KvmCalls.call(context, "save VM state", () -> new VmArchState(
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
    void restore(VmArchState saved) {
        requireNotRunningWithIrqchip("restore VM state");
        if (saved.pit() != null && !hasPit) {
            throw new IllegalArgumentException("VM " + vmName + ": the state has a PIT but this VM was created without one");
        }
        KvmCalls.run(context, "restore VM state", () -> {
            if (saved.pit() != null) {
                vmFd.setPit2(saved.pit());
            }
            vmFd.setClock(new ClockData(saved.clock().clock(), CLOCK_RESTORE_FLAGS, 0, 0));
            vmFd.setPic(KvmConstants.KVM_IRQCHIP_PIC_MASTER, saved.picMaster());
            vmFd.setPic(KvmConstants.KVM_IRQCHIP_PIC_SLAVE, saved.picSlave());
            vmFd.setIoapic(saved.ioapic());
        });
    }

    private void requireNotRunningWithIrqchip(String what) {
        life.lock.lock();
        try {
            life.requireNotRunning(what);
            requireIrqchip();
        } finally {
            life.lock.unlock();
        }
    }
}
