package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;

import dev.thaw.api.state.CpuidEntry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct kvm_cpuid2} (asm/kvm.h), for KVM_GET_SUPPORTED_CPUID, KVM_GET_CPUID2 and KVM_SET_CPUID2:
 * {@code nent} then {@code entries[]} of {@link KvmCpuidEntry2}.
 */
public final class KvmCpuid2 {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(U32.withName("nent"), U32.withName("padding"))
            .withName("struct kvm_cpuid2");

    private static final long NENT = offset(LAYOUT, "nent");

    private KvmCpuid2() {}

    /** A zeroed {@code kvm_cpuid2} with room for {@code n} entries and {@code nent = n}. */
    public static MemorySegment allocate(Arena arena, int n) {
        MemorySegment s = arena.allocate(LAYOUT.byteSize() + n * KvmCpuidEntry2.LAYOUT.byteSize(), 8);
        putU32(s, NENT, n, "nent");
        return s;
    }

    public static MemorySegment entry(MemorySegment s, int i) {
        return s.asSlice(LAYOUT.byteSize() + i * KvmCpuidEntry2.LAYOUT.byteSize(), KvmCpuidEntry2.LAYOUT);
    }

    public static long nent(MemorySegment s) {
        return u32(s, NENT);
    }

    /** The {@code nent} entries KVM filled in. */
    public static List<CpuidEntry> read(MemorySegment s) {
        int n = (int) nent(s);
        List<CpuidEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            entries.add(KvmCpuidEntry2.read(entry(s, i)));
        }
        return entries;
    }

    public static MemorySegment write(Arena arena, List<CpuidEntry> entries) {
        MemorySegment s = allocate(arena, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            KvmCpuidEntry2.write(entry(s, i), entries.get(i));
        }
        return s;
    }
}
