package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct uffdio_range} (linux/userfaultfd.h), for UFFDIO_UNREGISTER and UFFDIO_WAKE, and inside others. */
public final class UffdioRange {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(U64.withName("start"), U64.withName("len"))
            .withName("struct uffdio_range");

    public static final long START = offset(LAYOUT, "start");
    public static final long LEN = offset(LAYOUT, "len");

    private UffdioRange() {}

    public static void write(MemorySegment s, long start, long len) {
        s.set(U64, START, start);
        s.set(U64, LEN, len);
    }
}
