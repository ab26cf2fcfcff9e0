package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;
import static dev.thaw.linux.internal.Mem.u64;

import dev.thaw.api.state.MsrEntry;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_msr_entry} (asm/kvm.h), an element of {@code struct kvm_msrs}. */
public final class KvmMsrEntry {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("index"), U32.withName("reserved"), U64.withName("data"))
            .withName("struct kvm_msr_entry");

    private static final long INDEX = offset(LAYOUT, "index");
    private static final long DATA = offset(LAYOUT, "data");

    private KvmMsrEntry() {}

    public static MsrEntry read(MemorySegment s) {
        return new MsrEntry(u32(s, INDEX), u64(s, DATA));
    }

    public static void write(MemorySegment s, MsrEntry v) {
        putU32(s, INDEX, v.index(), "kvm_msr_entry.index");
        s.set(U64, DATA, v.data());
    }

    public static void writeIndex(MemorySegment s, long index) {
        putU32(s, INDEX, index, "kvm_msr_entry.index");
    }
}
