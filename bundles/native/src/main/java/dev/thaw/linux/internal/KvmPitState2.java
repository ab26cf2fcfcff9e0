package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;

import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.PitState;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.List;

/** {@code struct kvm_pit_state2} (asm/kvm.h), for KVM_GET_PIT2 and KVM_SET_PIT2. */
public final class KvmPitState2 {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(PitState.CHANNELS, KvmPitChannelState.LAYOUT).withName("channels"),
            U32.withName("flags"), MemoryLayout.sequenceLayout(9, U32).withName("reserved"))
            .withName("struct kvm_pit_state2");

    private static final long CHANNELS = offset(LAYOUT, "channels");
    private static final long FLAGS = offset(LAYOUT, "flags");

    private KvmPitState2() {}

    private static MemorySegment channel(MemorySegment s, int i) {
        return s.asSlice(CHANNELS + i * KvmPitChannelState.LAYOUT.byteSize(), KvmPitChannelState.LAYOUT);
    }

    public static PitState read(MemorySegment s) {
        List<PitChannelState> channels = new ArrayList<>(PitState.CHANNELS);
        for (int i = 0; i < PitState.CHANNELS; i++) {
            channels.add(KvmPitChannelState.read(channel(s, i)));
        }
        return new PitState(channels, u32(s, FLAGS));
    }

    public static void write(MemorySegment s, PitState v) {
        for (int i = 0; i < PitState.CHANNELS; i++) {
            KvmPitChannelState.write(channel(s, i), v.channels().get(i));
        }
        putU32(s, FLAGS, v.flags(), "flags");
    }
}
