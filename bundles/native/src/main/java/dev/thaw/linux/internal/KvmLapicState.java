package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.bytes;
import static dev.thaw.linux.internal.Mem.putBytes;

import dev.thaw.api.state.LapicState;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_lapic_state} (asm/kvm.h), for KVM_GET_LAPIC and KVM_SET_LAPIC. */
public final class KvmLapicState {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(LapicState.REG_BYTES, U8).withName("regs"))
            .withName("struct kvm_lapic_state");

    private KvmLapicState() {}

    public static LapicState read(MemorySegment s) {
        return new LapicState(bytes(s, 0, LapicState.REG_BYTES));
    }

    public static void write(MemorySegment s, LapicState v) {
        putBytes(s, 0, v.regs(), LapicState.REG_BYTES, "regs");
    }
}
