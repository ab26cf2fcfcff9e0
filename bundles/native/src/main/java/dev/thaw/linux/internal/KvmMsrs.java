package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;

import dev.thaw.api.state.MsrEntry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct kvm_msrs} (asm/kvm.h), for KVM_GET_MSRS and KVM_SET_MSRS: a header followed by
 * {@code nmsrs} {@link KvmMsrEntry} elements ({@code entries[]}).
 */
public final class KvmMsrs {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("nmsrs"), U32.withName("pad"))
            .withName("struct kvm_msrs");

    private static final long NMSRS = offset(LAYOUT, "nmsrs");

    private KvmMsrs() {}

    /** A zeroed {@code kvm_msrs} with room for {@code n} entries and {@code nmsrs = n}. */
    public static MemorySegment allocate(Arena arena, int n) {
        MemorySegment s = arena.allocate(LAYOUT.byteSize() + n * KvmMsrEntry.LAYOUT.byteSize(), 8);
        putU32(s, NMSRS, n, "nmsrs");
        return s;
    }

    public static MemorySegment entry(MemorySegment s, int i) {
        return s.asSlice(LAYOUT.byteSize() + i * KvmMsrEntry.LAYOUT.byteSize(), KvmMsrEntry.LAYOUT);
    }

    /** A {@code kvm_msrs} asking for {@code indices} (KVM_GET_MSRS fills in the data). */
    public static MemorySegment ofIndices(Arena arena, long[] indices) {
        MemorySegment s = allocate(arena, indices.length);
        for (int i = 0; i < indices.length; i++) {
            KvmMsrEntry.writeIndex(entry(s, i), indices[i]);
        }
        return s;
    }

    /** A {@code kvm_msrs} holding {@code entries} (for KVM_SET_MSRS). */
    public static MemorySegment of(Arena arena, List<MsrEntry> entries) {
        MemorySegment s = allocate(arena, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            KvmMsrEntry.write(entry(s, i), entries.get(i));
        }
        return s;
    }

    /** The first {@code n} entries. */
    public static List<MsrEntry> read(MemorySegment s, int n) {
        List<MsrEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            entries.add(KvmMsrEntry.read(entry(s, i)));
        }
        return entries;
    }
}
