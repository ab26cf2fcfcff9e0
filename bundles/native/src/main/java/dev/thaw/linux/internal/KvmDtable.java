package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U16;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU16;
import static dev.thaw.linux.internal.Mem.u16;
import static dev.thaw.linux.internal.Mem.u64;

import dev.thaw.api.state.DescriptorTable;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_dtable} (asm/kvm.h), part of {@code struct kvm_sregs}. */
public final class KvmDtable {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("base"), U16.withName("limit"), MemoryLayout.sequenceLayout(3, U16).withName("padding"))
            .withName("struct kvm_dtable");

    private static final long BASE = offset(LAYOUT, "base");
    private static final long LIMIT = offset(LAYOUT, "limit");

    private KvmDtable() {}

    public static DescriptorTable read(MemorySegment s) {
        return new DescriptorTable(u64(s, BASE), u16(s, LIMIT));
    }

    public static void write(MemorySegment s, DescriptorTable v, String name) {
        s.set(U64, BASE, v.base());
        putU16(s, LIMIT, v.limit(), name + ".limit");
    }
}
