package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** {@code struct uffdio_register} (linux/userfaultfd.h), for UFFDIO_REGISTER. */
public final class UffdioRegister {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            UffdioRange.LAYOUT.withName("range"), U64.withName("mode"), U64.withName("ioctls"))
            .withName("struct uffdio_register");

    public static final long RANGE = offset(LAYOUT, "range");
    public static final long MODE = offset(LAYOUT, "mode");
    public static final long IOCTLS = offset(LAYOUT, "ioctls");

    private UffdioRegister() {}
}
