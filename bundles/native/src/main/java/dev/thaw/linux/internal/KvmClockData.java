package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;
import static dev.thaw.linux.internal.Mem.u64;

import dev.thaw.api.state.ClockData;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_clock_data} (linux/kvm.h), for KVM_GET_CLOCK and KVM_SET_CLOCK. */
public final class KvmClockData {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("clock"), U32.withName("flags"), U32.withName("pad0"), U64.withName("realtime"),
            U64.withName("host_tsc"), MemoryLayout.sequenceLayout(4, U32).withName("pad"))
            .withName("struct kvm_clock_data");

    private static final long CLOCK = offset(LAYOUT, "clock");
    private static final long FLAGS = offset(LAYOUT, "flags");
    private static final long REALTIME = offset(LAYOUT, "realtime");
    private static final long HOST_TSC = offset(LAYOUT, "host_tsc");

    private KvmClockData() {}

    public static ClockData read(MemorySegment s) {
        return new ClockData(u64(s, CLOCK), u32(s, FLAGS), u64(s, REALTIME), u64(s, HOST_TSC));
    }

    public static void write(MemorySegment s, ClockData v) {
        s.set(U64, CLOCK, v.clock());
        putU32(s, FLAGS, v.flags(), "flags");
        s.set(U64, REALTIME, v.realtime());
        s.set(U64, HOST_TSC, v.hostTsc());
    }
}
