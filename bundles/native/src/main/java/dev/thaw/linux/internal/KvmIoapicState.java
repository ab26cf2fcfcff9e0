package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;
import static dev.thaw.linux.internal.Mem.u64;

import dev.thaw.api.state.IoapicState;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct kvm_ioapic_state} (asm/kvm.h), the IOAPIC variant of {@code kvm_irqchip.chip}. Each
 * redirection entry is a union of {@code __u64 bits} and bit fields; it is handled as {@code bits}.
 */
public final class KvmIoapicState {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("base_address"), U32.withName("ioregsel"), U32.withName("id"), U32.withName("irr"),
            U32.withName("pad"),
            MemoryLayout.sequenceLayout(IoapicState.PINS,
                    MemoryLayout.unionLayout(U64.withName("bits"))).withName("redirtbl"))
            .withName("struct kvm_ioapic_state");

    private static final long BASE_ADDRESS = offset(LAYOUT, "base_address");
    private static final long IOREGSEL = offset(LAYOUT, "ioregsel");
    private static final long ID = offset(LAYOUT, "id");
    private static final long IRR = offset(LAYOUT, "irr");
    private static final long REDIRTBL = offset(LAYOUT, "redirtbl");

    private KvmIoapicState() {}

    public static IoapicState read(MemorySegment s) {
        long[] table = new long[IoapicState.PINS];
        for (int i = 0; i < table.length; i++) {
            table[i] = u64(s, REDIRTBL + 8L * i);
        }
        return new IoapicState(u64(s, BASE_ADDRESS), u32(s, IOREGSEL), u32(s, ID), u32(s, IRR), table);
    }

    public static void write(MemorySegment s, IoapicState v) {
        s.set(U64, BASE_ADDRESS, v.baseAddress());
        putU32(s, IOREGSEL, v.ioregsel(), "ioregsel");
        putU32(s, ID, v.id(), "id");
        putU32(s, IRR, v.irr(), "irr");
        long[] table = v.redirectionTable();
        for (int i = 0; i < table.length; i++) {
            s.set(U64, REDIRTBL + 8L * i, table[i]);
        }
    }
}
