package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_userspace_memory_region} (linux/kvm.h), for KVM_SET_USER_MEMORY_REGION. */
public final class KvmUserspaceMemoryRegion {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("slot"), U32.withName("flags"), U64.withName("guest_phys_addr"),
            U64.withName("memory_size"), U64.withName("userspace_addr"))
            .withName("struct kvm_userspace_memory_region");

    private static final long SLOT = offset(LAYOUT, "slot");
    private static final long FLAGS = offset(LAYOUT, "flags");
    private static final long GUEST_PHYS_ADDR = offset(LAYOUT, "guest_phys_addr");
    private static final long MEMORY_SIZE = offset(LAYOUT, "memory_size");
    private static final long USERSPACE_ADDR = offset(LAYOUT, "userspace_addr");

    private KvmUserspaceMemoryRegion() {}

    public static void write(MemorySegment s, long slot, long flags, long guestPhysAddr, long memorySize,
            long userspaceAddr) {
        putU32(s, SLOT, slot, "slot");
        putU32(s, FLAGS, flags, "flags");
        s.set(U64, GUEST_PHYS_ADDR, guestPhysAddr);
        s.set(U64, MEMORY_SIZE, memorySize);
        s.set(U64, USERSPACE_ADDR, userspaceAddr);
    }
}
