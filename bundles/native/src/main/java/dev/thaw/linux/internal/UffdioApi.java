package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** {@code struct uffdio_api} (linux/userfaultfd.h), for UFFDIO_API. */
public final class UffdioApi {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("api"), U64.withName("features"), U64.withName("ioctls"))
            .withName("struct uffdio_api");

    public static final long API = offset(LAYOUT, "api");
    public static final long FEATURES = offset(LAYOUT, "features");
    public static final long IOCTLS = offset(LAYOUT, "ioctls");

    private UffdioApi() {}
}
