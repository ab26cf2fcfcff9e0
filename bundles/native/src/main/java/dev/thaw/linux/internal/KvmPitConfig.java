package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_pit_config} (linux/kvm.h), for KVM_CREATE_PIT2. */
public final class KvmPitConfig {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("flags"), MemoryLayout.sequenceLayout(15, U32).withName("pad"))
            .withName("struct kvm_pit_config");

    private static final long FLAGS = offset(LAYOUT, "flags");

    private KvmPitConfig() {}

    public static void writeFlags(MemorySegment s, long flags) {
        putU32(s, FLAGS, flags, "flags");
    }
}
