package dev.thaw.kvm.impl;

import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.kvm.KvmException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.kvm.VmFd;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A VM's guest memory: anonymous mappings registered as KVM memory slots 0, 1, 2, ... in the order
 * they are added, unmapped when the VM closes. Guarded by the {@link VmLifecycle} lock.
 */
final class MemorySlots {

    /** The host page size, asked once (a sysconf downcall). */
    private static final long PAGE_SIZE = Libc.pageSize();

    private record Slot(GuestMemoryRegion region, Mapping mapping) {}

    private final String vmName;
    /** Names the VM in error messages. */
    private final String context;
    private final VmFd vmFd;
    private final VmLifecycle life;
    /** KVM_CAP_NR_MEMSLOTS; 0 when unknown. */
    private final int maxSlots;
    private final List<Slot> slots = new ArrayList<>();

    MemorySlots(String vmName, VmFd vmFd, VmLifecycle life, int maxSlots) {
        this.vmName = vmName;
        this.context = "VM " + vmName;
        this.vmFd = vmFd;
        this.life = life;
        this.maxSlots = maxSlots;
    }

    GuestMemoryRegion add(long guestAddress, long size) {
        long end = checkedEnd(guestAddress, size);
        life.lock.lock();
        try {
            life.requireOpen("add memory");
            for (Slot s : slots) {
                GuestMemoryRegion g = s.region();
                if (guestAddress < g.guestAddress() + g.size() && g.guestAddress() < end) {
                    throw new IllegalArgumentException("VM " + vmName + ": guest range [0x" + Long.toHexString(guestAddress)
                            + ", 0x" + Long.toHexString(end) + ") overlaps slot " + g.index() + " [0x"
                            + Long.toHexString(g.guestAddress()) + ", 0x" + Long.toHexString(g.guestAddress() + g.size()) + ")");
                }
            }
            int slot = slots.size();
            if (maxSlots > 0 && slot >= maxSlots) {
                throw new KvmException("VM " + vmName + ": all " + maxSlots + " KVM memory slots are used");
            }
            Mapping mapping = map(context, vmFd, slot, guestAddress, size);
            GuestMemoryRegion region = new GuestMemoryRegion(slot, guestAddress, size, mapping.address(),
                    mapping.segment());
            slots.add(new Slot(region, mapping));
            return region;
        } finally {
            life.lock.unlock();
        }
    }

    /**
     * Maps {@code size} bytes of anonymous memory (nothing committed until touched; isolated, so the kernel's
     * figures for it are its own) and registers it as
     * {@code slot} at {@code guestAddress}; also how {@link SpareVms} are made ahead.
     */
    static Mapping map(String context, VmFd vmFd, int slot, long guestAddress, long size) {
        Mapping mapping = KvmCalls.call(context, "map " + size + " bytes of guest memory",
                () -> Mapping.isolated(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_NORESERVE));
        try {
            KvmCalls.run(context, "register memory slot " + slot,
                    () -> vmFd.setUserMemoryRegion(slot, 0, guestAddress, size, mapping.address()));
        } catch (RuntimeException e) {
            mapping.close();
            throw e;
        }
        return mapping;
    }

    /** Takes over memory {@link #map} registered already as slots 0, 1, ... of this VM fd (a spare VM's). */
    void adopt(List<MemoryRange> ranges, List<Mapping> mappings) {
        life.lock.lock();
        try {
            if (!slots.isEmpty() || ranges.size() != mappings.size()) {
                throw new IllegalStateException("VM " + vmName + ": memory can only be adopted whole, into no memory");
            }
            for (int i = 0; i < ranges.size(); i++) {
                MemoryRange r = ranges.get(i);
                Mapping m = mappings.get(i);
                slots.add(new Slot(new GuestMemoryRegion(i, r.guestAddress(), r.size(), m.address(), m.segment()), m));
            }
        } finally {
            life.lock.unlock();
        }
    }

    List<GuestMemoryRegion> regions() {
        life.lock.lock();
        try {
            return slots.stream().map(Slot::region).toList();
        } finally {
            life.lock.unlock();
        }
    }

    MemorySegment guestMemory(long guestAddress, long length) {
        for (GuestMemoryRegion r : regions()) {
            if (r.contains(guestAddress, length)) {
                return r.slice(guestAddress, length);
            }
        }
        throw new IndexOutOfBoundsException("VM " + vmName + ": guest range 0x" + Long.toHexString(guestAddress) + "+"
                + length + " is not inside one memory region");
    }

    /** Unmaps every slot's memory; returns the first failure so far (see {@link KvmVm#closeQuietly}). */
    RuntimeException close(RuntimeException failure) {
        for (Slot s : slots) {
            failure = KvmVm.closeQuietly(s.mapping(), failure);
        }
        return failure;
    }

    /** The end of {@code [guestAddress, guestAddress + size)}, after checking alignment and wrap-around. */
    private long checkedEnd(long guestAddress, long size) {
        if (size <= 0 || size % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("VM " + vmName + ": memory size " + size
                    + " must be a positive multiple of the page size " + PAGE_SIZE);
        }
        if (guestAddress < 0 || guestAddress % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("VM " + vmName + ": guest address 0x" + Long.toHexString(guestAddress)
                    + " must be page aligned (" + PAGE_SIZE + ")");
        }
        try {
            return Math.addExact(guestAddress, size);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("VM " + vmName + ": memory at 0x" + Long.toHexString(guestAddress)
                    + " of " + size + " bytes wraps around", e);
        }
    }
}
