package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** {@code struct uffdio_writeprotect} (linux/userfaultfd.h), for UFFDIO_WRITEPROTECT. */
public final class UffdioWriteprotect {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            UffdioRange.LAYOUT.withName("range"), U64.withName("mode"))
            .withName("struct uffdio_writeprotect");

    public static final long RANGE = offset(LAYOUT, "range");
    public static final long MODE = offset(LAYOUT, "mode");

    private UffdioWriteprotect() {}
}
