package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;

import dev.thaw.api.state.CpuidEntry;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_cpuid_entry2} (asm/kvm.h), an element of {@code struct kvm_cpuid2}. */
public final class KvmCpuidEntry2 {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("function"), U32.withName("index"), U32.withName("flags"),
            U32.withName("eax"), U32.withName("ebx"), U32.withName("ecx"), U32.withName("edx"),
            MemoryLayout.sequenceLayout(3, U32).withName("padding"))
            .withName("struct kvm_cpuid_entry2");

    private static final long FUNCTION = offset(LAYOUT, "function");
    private static final long INDEX = offset(LAYOUT, "index");
    private static final long FLAGS = offset(LAYOUT, "flags");
    private static final long EAX = offset(LAYOUT, "eax");
    private static final long EBX = offset(LAYOUT, "ebx");
    private static final long ECX = offset(LAYOUT, "ecx");
    private static final long EDX = offset(LAYOUT, "edx");

    private KvmCpuidEntry2() {}

    public static CpuidEntry read(MemorySegment s) {
        return new CpuidEntry(u32(s, FUNCTION), u32(s, INDEX), u32(s, FLAGS),
                u32(s, EAX), u32(s, EBX), u32(s, ECX), u32(s, EDX));
    }

    public static void write(MemorySegment s, CpuidEntry v) {
        putU32(s, FUNCTION, v.function(), "function");
        putU32(s, INDEX, v.index(), "index");
        putU32(s, FLAGS, v.flags(), "flags");
        putU32(s, EAX, v.eax(), "eax");
        putU32(s, EBX, v.ebx(), "ebx");
        putU32(s, ECX, v.ecx(), "ecx");
        putU32(s, EDX, v.edx(), "edx");
    }
}
