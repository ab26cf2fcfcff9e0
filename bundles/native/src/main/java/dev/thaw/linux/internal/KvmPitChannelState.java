package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U16;
import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU16;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.putU8;
import static dev.thaw.linux.internal.Mem.u16;
import static dev.thaw.linux.internal.Mem.u32;
import static dev.thaw.linux.internal.Mem.u64;
import static dev.thaw.linux.internal.Mem.u8;

import dev.thaw.api.state.PitChannelState;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_pit_channel_state} (asm/kvm.h), an element of {@code struct kvm_pit_state2}. */
public final class KvmPitChannelState {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("count"), U16.withName("latched_count"), U8.withName("count_latched"),
            U8.withName("status_latched"), U8.withName("status"), U8.withName("read_state"),
            U8.withName("write_state"), U8.withName("write_latch"), U8.withName("rw_mode"), U8.withName("mode"),
            U8.withName("bcd"), U8.withName("gate"), U64.withName("count_load_time"))
            .withName("struct kvm_pit_channel_state");

    private static final long COUNT = offset(LAYOUT, "count");
    private static final long LATCHED_COUNT = offset(LAYOUT, "latched_count");
    private static final long COUNT_LATCHED = offset(LAYOUT, "count_latched");
    private static final long STATUS_LATCHED = offset(LAYOUT, "status_latched");
    private static final long STATUS = offset(LAYOUT, "status");
    private static final long READ_STATE = offset(LAYOUT, "read_state");
    private static final long WRITE_STATE = offset(LAYOUT, "write_state");
    private static final long WRITE_LATCH = offset(LAYOUT, "write_latch");
    private static final long RW_MODE = offset(LAYOUT, "rw_mode");
    private static final long MODE = offset(LAYOUT, "mode");
    private static final long BCD = offset(LAYOUT, "bcd");
    private static final long GATE = offset(LAYOUT, "gate");
    private static final long COUNT_LOAD_TIME = offset(LAYOUT, "count_load_time");

    private KvmPitChannelState() {}

    public static PitChannelState read(MemorySegment s) {
        return new PitChannelState(u32(s, COUNT), u16(s, LATCHED_COUNT), u8(s, COUNT_LATCHED),
                u8(s, STATUS_LATCHED), u8(s, STATUS), u8(s, READ_STATE), u8(s, WRITE_STATE), u8(s, WRITE_LATCH),
                u8(s, RW_MODE), u8(s, MODE), u8(s, BCD), u8(s, GATE), u64(s, COUNT_LOAD_TIME));
    }

    public static void write(MemorySegment s, PitChannelState v) {
        putU32(s, COUNT, v.count(), "count");
        putU16(s, LATCHED_COUNT, v.latchedCount(), "latched_count");
        putU8(s, COUNT_LATCHED, v.countLatched(), "count_latched");
        putU8(s, STATUS_LATCHED, v.statusLatched(), "status_latched");
        putU8(s, STATUS, v.status(), "status");
        putU8(s, READ_STATE, v.readState(), "read_state");
        putU8(s, WRITE_STATE, v.writeState(), "write_state");
        putU8(s, WRITE_LATCH, v.writeLatch(), "write_latch");
        putU8(s, RW_MODE, v.rwMode(), "rw_mode");
        putU8(s, MODE, v.mode(), "mode");
        putU8(s, BCD, v.bcd(), "bcd");
        putU8(s, GATE, v.gate(), "gate");
        s.set(U64, COUNT_LOAD_TIME, v.countLoadTime());
    }
}
