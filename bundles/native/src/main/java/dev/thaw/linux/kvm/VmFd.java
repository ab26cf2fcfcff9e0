package dev.thaw.linux.kvm;

import dev.thaw.api.state.ClockData;
import dev.thaw.api.state.IoapicState;
import dev.thaw.api.state.PicState;
import dev.thaw.api.state.PitState;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.internal.Ioctls;
import dev.thaw.linux.internal.KvmClockData;
import dev.thaw.linux.internal.KvmIoapicState;
import dev.thaw.linux.internal.KvmIrqLevel;
import dev.thaw.linux.internal.KvmIrqchip;
import dev.thaw.linux.internal.KvmPicState;
import dev.thaw.linux.internal.KvmPitConfig;
import dev.thaw.linux.internal.KvmPitState2;
import dev.thaw.linux.internal.KvmUserspaceMemoryRegion;
import dev.thaw.linux.internal.OwnedFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A VM fd from KVM_CREATE_VM. */
public final class VmFd implements AutoCloseable {

    private final OwnedFd fd;

    VmFd(int fd) {
        this.fd = new OwnedFd(fd);
    }

    public int fd() {
        return fd.get();
    }

    /** KVM_CHECK_EXTENSION on the VM fd (KVM_CAP_CHECK_EXTENSION_VM); e.g. KVM_CAP_XSAVE2 must be asked here. */
    public int checkExtension(int capability) {
        return Libc.ioctl(fd.get(), Ioctls.KVM_CHECK_EXTENSION, capability, "KVM_CHECK_EXTENSION");
    }

    /**
     * KVM_SET_USER_MEMORY_REGION (KVM_CAP_USER_MEMORY): maps host {@code userspaceAddress} at guest
     * {@code guestPhysAddress} as {@code slot}; a {@code memorySize} of 0 deletes the slot.
     */
    public void setUserMemoryRegion(int slot, int flags, long guestPhysAddress, long memorySize, long userspaceAddress) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmUserspaceMemoryRegion.LAYOUT);
            KvmUserspaceMemoryRegion.write(s, slot, flags, guestPhysAddress, memorySize, userspaceAddress);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_USER_MEMORY_REGION, s, "KVM_SET_USER_MEMORY_REGION");
        }
    }

    /** KVM_SET_TSS_ADDR (KVM_CAP_SET_TSS_ADDR): three pages of guest physical space KVM may use. */
    public void setTssAddr(long address) {
        Libc.ioctl(fd.get(), Ioctls.KVM_SET_TSS_ADDR, address, "KVM_SET_TSS_ADDR");
    }

    /** KVM_SET_IDENTITY_MAP_ADDR (KVM_CAP_SET_IDENTITY_MAP_ADDR): one page; before any vCPU exists. */
    public void setIdentityMapAddr(long address) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(ValueLayout.JAVA_LONG);
            s.set(ValueLayout.JAVA_LONG, 0, address);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_IDENTITY_MAP_ADDR, s, "KVM_SET_IDENTITY_MAP_ADDR");
        }
    }

    /** KVM_CREATE_IRQCHIP (KVM_CAP_IRQCHIP): in-kernel PICs, IOAPIC and a local APIC per vCPU. */
    public void createIrqchip() {
        Libc.ioctl(fd.get(), Ioctls.KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
    }

    /** KVM_CREATE_PIT2 (KVM_CAP_PIT2) with {@code flags} (e.g. KVM_PIT_SPEAKER_DUMMY); after the irqchip. */
    public void createPit2(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmPitConfig.LAYOUT);
            KvmPitConfig.writeFlags(s, flags);
            Libc.ioctl(fd.get(), Ioctls.KVM_CREATE_PIT2, s, "KVM_CREATE_PIT2");
        }
    }

    /** KVM_IRQ_LINE (KVM_CAP_IRQCHIP): drives GSI {@code irq} to {@code level} (0 or 1). */
    public void irqLine(int irq, int level) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmIrqLevel.LAYOUT);
            KvmIrqLevel.write(s, irq, level);
            Libc.ioctl(fd.get(), Ioctls.KVM_IRQ_LINE, s, "KVM_IRQ_LINE");
        }
    }

    /** KVM_GET_IRQCHIP of a PIC ({@code KVM_IRQCHIP_PIC_MASTER} or {@code _SLAVE}). */
    public PicState getPic(int chipId) {
        requirePic(chipId);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmIrqchip.LAYOUT);
            KvmIrqchip.writeChipId(s, chipId);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_IRQCHIP, s, "KVM_GET_IRQCHIP");
            return KvmPicState.read(KvmIrqchip.pic(s));
        }
    }

    /** KVM_SET_IRQCHIP of a PIC. */
    public void setPic(int chipId, PicState state) {
        requirePic(chipId);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmIrqchip.LAYOUT);
            KvmIrqchip.writeChipId(s, chipId);
            KvmPicState.write(KvmIrqchip.pic(s), state);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_IRQCHIP, s, "KVM_SET_IRQCHIP");
        }
    }

    /** KVM_GET_IRQCHIP of the IOAPIC. */
    public IoapicState getIoapic() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmIrqchip.LAYOUT);
            KvmIrqchip.writeChipId(s, KvmConstants.KVM_IRQCHIP_IOAPIC);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_IRQCHIP, s, "KVM_GET_IRQCHIP");
            return KvmIoapicState.read(KvmIrqchip.ioapic(s));
        }
    }

    /** KVM_SET_IRQCHIP of the IOAPIC. */
    public void setIoapic(IoapicState state) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmIrqchip.LAYOUT);
            KvmIrqchip.writeChipId(s, KvmConstants.KVM_IRQCHIP_IOAPIC);
            KvmIoapicState.write(KvmIrqchip.ioapic(s), state);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_IRQCHIP, s, "KVM_SET_IRQCHIP");
        }
    }

    /** KVM_GET_PIT2 (KVM_CAP_PIT_STATE2). */
    public PitState getPit2() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmPitState2.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_PIT2, s, "KVM_GET_PIT2");
            return KvmPitState2.read(s);
        }
    }

    /** KVM_SET_PIT2 (KVM_CAP_PIT_STATE2). */
    public void setPit2(PitState state) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmPitState2.LAYOUT);
            KvmPitState2.write(s, state);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_PIT2, s, "KVM_SET_PIT2");
        }
    }

    /** KVM_GET_CLOCK (KVM_CAP_ADJUST_CLOCK). */
    public ClockData getClock() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmClockData.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_CLOCK, s, "KVM_GET_CLOCK");
            return KvmClockData.read(s);
        }
    }

    /** KVM_SET_CLOCK (KVM_CAP_ADJUST_CLOCK); {@code flags} may only hold what the kernel accepts on set. */
    public void setClock(ClockData clock) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmClockData.LAYOUT);
            KvmClockData.write(s, clock);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_CLOCK, s, "KVM_SET_CLOCK");
        }
    }

    /**
     * KVM_CREATE_VCPU with {@code id} (the APIC ID), then mmap of its {@code kvm_run} area of
     * {@code mmapSize} bytes (KVM_GET_VCPU_MMAP_SIZE). The fd is closed again if the mmap fails.
     */
    public VcpuFd createVcpu(int id, int mmapSize) {
        int vcpu = Libc.ioctl(fd.get(), Ioctls.KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU");
        Mapping run;
        try {
            run = Mapping.file(vcpu, mmapSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, 0);
        } catch (RuntimeException | Error e) {
            try {
                Libc.close(vcpu);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new VcpuFd(vcpu, id, run);
    }

    /** Closes the VM fd; KVM frees the VM once its vCPU fds are closed too. Idempotent. */
    @Override
    public void close() {
        fd.close();
    }

    private static void requirePic(int chipId) {
        if (chipId != KvmConstants.KVM_IRQCHIP_PIC_MASTER && chipId != KvmConstants.KVM_IRQCHIP_PIC_SLAVE) {
            throw new IllegalArgumentException("chip " + chipId + " is not a PIC (0 master, 1 slave)");
        }
    }
}
