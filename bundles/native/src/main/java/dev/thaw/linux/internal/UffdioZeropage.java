package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** {@code struct uffdio_zeropage} (linux/userfaultfd.h), for UFFDIO_ZEROPAGE; {@code zeropage} is an {@code __s64} out. */
public final class UffdioZeropage {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            UffdioRange.LAYOUT.withName("range"), U64.withName("mode"), U64.withName("zeropage"))
            .withName("struct uffdio_zeropage");

    public static final long RANGE = offset(LAYOUT, "range");
    public static final long MODE = offset(LAYOUT, "mode");
    public static final long ZEROPAGE = offset(LAYOUT, "zeropage");

    private UffdioZeropage() {}
}
