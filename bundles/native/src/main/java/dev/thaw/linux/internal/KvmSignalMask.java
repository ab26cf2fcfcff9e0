package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * {@code struct kvm_signal_mask} (linux/kvm.h), for KVM_SET_SIGNAL_MASK: {@code len} then the kernel's
 * {@code sigset_t} (8 bytes on x86-64, one bit per signal 1-64; not glibc's 128-byte {@code sigset_t}).
 */
public final class KvmSignalMask {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(U32.withName("len"))
            .withName("struct kvm_signal_mask");

    /** Size of the kernel's sigset_t: KVM refuses any other {@code len}. */
    public static final int KERNEL_SIGSET_BYTES = 8;

    private static final long LEN = offset(LAYOUT, "len");
    /** The sigset follows the 4-byte {@code len}: a u64 at offset 4. */
    private static final ValueLayout.OfLong SIGSET = U64.withByteAlignment(4);

    private KvmSignalMask() {}

    /** A {@code kvm_signal_mask} blocking the signals whose bits are set in {@code mask} (bit n-1 = signal n). */
    public static MemorySegment allocate(Arena arena, long mask) {
        MemorySegment s = arena.allocate(LAYOUT.byteSize() + KERNEL_SIGSET_BYTES, 4);
        putU32(s, LEN, KERNEL_SIGSET_BYTES, "len");
        s.set(SIGSET, LAYOUT.byteSize(), mask);
        return s;
    }
}
