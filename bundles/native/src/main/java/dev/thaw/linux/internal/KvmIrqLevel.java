package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct kvm_irq_level} (linux/kvm.h), for KVM_IRQ_LINE. Its first member is an anonymous union
 * of {@code __u32 irq} and {@code __s32 status}; KVM_IRQ_LINE uses {@code irq}.
 */
public final class KvmIrqLevel {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(U32.withName("irq"), U32.withName("level"))
            .withName("struct kvm_irq_level");

    private static final long IRQ = offset(LAYOUT, "irq");
    private static final long LEVEL = offset(LAYOUT, "level");

    private KvmIrqLevel() {}

    public static void write(MemorySegment s, long irq, long level) {
        putU32(s, IRQ, irq, "irq");
        putU32(s, LEVEL, level, "level");
    }
}
