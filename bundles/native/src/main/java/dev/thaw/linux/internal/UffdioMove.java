package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** {@code struct uffdio_move} (linux/userfaultfd.h), for UFFDIO_MOVE; {@code move} is an {@code __s64} out. */
public final class UffdioMove {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("dst"), U64.withName("src"), U64.withName("len"), U64.withName("mode"), U64.withName("move"))
            .withName("struct uffdio_move");

    public static final long DST = offset(LAYOUT, "dst");
    public static final long SRC = offset(LAYOUT, "src");
    public static final long LEN = offset(LAYOUT, "len");
    public static final long MODE = offset(LAYOUT, "mode");
    public static final long MOVE = offset(LAYOUT, "move");

    private UffdioMove() {}
}
