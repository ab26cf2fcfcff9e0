package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.u32;
import static dev.thaw.linux.internal.Mem.u64;

import dev.thaw.api.state.Xcr;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_xcr} (asm/kvm.h), an element of {@code struct kvm_xcrs}. */
public final class KvmXcr {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U32.withName("xcr"), U32.withName("reserved"), U64.withName("value"))
            .withName("struct kvm_xcr");

    private static final long XCR = offset(LAYOUT, "xcr");
    private static final long VALUE = offset(LAYOUT, "value");

    private KvmXcr() {}

    public static Xcr read(MemorySegment s) {
        return new Xcr(u32(s, XCR), u64(s, VALUE));
    }

    public static void write(MemorySegment s, Xcr v) {
        putU32(s, XCR, v.xcr(), "xcr");
        s.set(U64, VALUE, v.value());
    }
}
