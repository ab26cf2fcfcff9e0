package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** {@code struct uffdio_continue} (linux/userfaultfd.h), for UFFDIO_CONTINUE; {@code mapped} is an {@code __s64} out. */
public final class UffdioContinue {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            UffdioRange.LAYOUT.withName("range"), U64.withName("mode"), U64.withName("mapped"))
            .withName("struct uffdio_continue");

    public static final long RANGE = offset(LAYOUT, "range");
    public static final long MODE = offset(LAYOUT, "mode");
    public static final long MAPPED = offset(LAYOUT, "mapped");

    private UffdioContinue() {}
}
