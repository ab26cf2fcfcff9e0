package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct kvm_msr_list} (asm/kvm.h), for KVM_GET_MSR_INDEX_LIST and
 * KVM_GET_MSR_FEATURE_INDEX_LIST: {@code nmsrs} then {@code __u32 indices[]}.
 */
public final class KvmMsrList {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(U32.withName("nmsrs"))
            .withName("struct kvm_msr_list");

    private static final long NMSRS = offset(LAYOUT, "nmsrs");

    private KvmMsrList() {}

    /** A list with room for {@code capacity} indices, {@code nmsrs = capacity}. */
    public static MemorySegment allocate(Arena arena, int capacity) {
        MemorySegment s = arena.allocate(LAYOUT.byteSize() + 4L * capacity, 4);
        putU32(s, NMSRS, capacity, "nmsrs");
        return s;
    }

    public static long nmsrs(MemorySegment s) {
        return u32(s, NMSRS);
    }

    public static long[] indices(MemorySegment s) {
        int n = (int) nmsrs(s);
        long[] indices = new long[n];
        for (int i = 0; i < n; i++) {
            indices[i] = u32(s, LAYOUT.byteSize() + 4L * i);
        }
        return indices;
    }
}
