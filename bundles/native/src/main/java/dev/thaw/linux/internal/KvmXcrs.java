package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;

import dev.thaw.api.state.Xcr;
import dev.thaw.api.state.Xcrs;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.List;

/** {@code struct kvm_xcrs} (asm/kvm.h), for KVM_GET_XCRS and KVM_SET_XCRS. */
public final class KvmXcrs {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("nr_xcrs"), U32.withName("flags"),
            MemoryLayout.sequenceLayout(Xcrs.MAX_XCRS, KvmXcr.LAYOUT).withName("xcrs"),
            MemoryLayout.sequenceLayout(16, U64).withName("padding"))
            .withName("struct kvm_xcrs");

    private static final long NR_XCRS = offset(LAYOUT, "nr_xcrs");
    private static final long FLAGS = offset(LAYOUT, "flags");
    private static final long XCRS = offset(LAYOUT, "xcrs");

    private KvmXcrs() {}

    public static Xcrs read(MemorySegment s) {
        long n = Math.min(u32(s, NR_XCRS), Xcrs.MAX_XCRS);
        List<Xcr> xcrs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            xcrs.add(KvmXcr.read(s.asSlice(XCRS + i * KvmXcr.LAYOUT.byteSize(), KvmXcr.LAYOUT)));
        }
        return new Xcrs(u32(s, FLAGS), xcrs);
    }

    public static void write(MemorySegment s, Xcrs v) {
        putU32(s, NR_XCRS, v.xcrs().size(), "nr_xcrs");
        putU32(s, FLAGS, v.flags(), "flags");
        for (int i = 0; i < v.xcrs().size(); i++) {
            KvmXcr.write(s.asSlice(XCRS + i * KvmXcr.LAYOUT.byteSize(), KvmXcr.LAYOUT), v.xcrs().get(i));
        }
    }
}
