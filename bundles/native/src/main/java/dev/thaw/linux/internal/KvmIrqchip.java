package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct kvm_irqchip} (linux/kvm.h), for KVM_GET_IRQCHIP and KVM_SET_IRQCHIP: a chip id
 * ({@code KVM_IRQCHIP_PIC_MASTER}, {@code _PIC_SLAVE}, {@code _IOAPIC}) and a 512-byte union holding
 * {@link KvmPicState} or {@link KvmIoapicState}.
 */
public final class KvmIrqchip {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("chip_id"), U32.withName("pad"),
            MemoryLayout.unionLayout(
                    MemoryLayout.sequenceLayout(512, U8).withName("dummy"),
                    KvmPicState.LAYOUT.withName("pic"),
                    KvmIoapicState.LAYOUT.withName("ioapic")).withName("chip"))
            .withName("struct kvm_irqchip");

    private static final long CHIP_ID = offset(LAYOUT, "chip_id");
    private static final long CHIP = offset(LAYOUT, "chip");

    private KvmIrqchip() {}

    public static void writeChipId(MemorySegment s, int chipId) {
        putU32(s, CHIP_ID, chipId, "chip_id");
    }

    public static MemorySegment pic(MemorySegment s) {
        return s.asSlice(CHIP, KvmPicState.LAYOUT);
    }

    public static MemorySegment ioapic(MemorySegment s) {
        return s.asSlice(CHIP, KvmIoapicState.LAYOUT);
    }
}
