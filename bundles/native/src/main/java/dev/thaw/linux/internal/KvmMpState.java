package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;

import dev.thaw.api.state.MpState;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_mp_state} (linux/kvm.h), for KVM_GET_MP_STATE and KVM_SET_MP_STATE. */
public final class KvmMpState {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(U32.withName("mp_state"))
            .withName("struct kvm_mp_state");

    private static final long MP_STATE = offset(LAYOUT, "mp_state");

    private KvmMpState() {}

    public static MpState read(MemorySegment s) {
        return new MpState(u32(s, MP_STATE));
    }

    public static void write(MemorySegment s, MpState v) {
        putU32(s, MP_STATE, v.state(), "mp_state");
    }
}
