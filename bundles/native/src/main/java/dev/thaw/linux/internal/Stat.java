package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * {@code struct stat} (sys/stat.h, x86-64), for fstat(2): only the members Thaw reads are named, the
 * rest is padding (the layout test still checks the struct's size and these offsets).
 */
public final class Stat {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.paddingLayout(48), U64.withName("st_size"), MemoryLayout.paddingLayout(8),
            U64.withName("st_blocks"), MemoryLayout.paddingLayout(72))
            .withName("struct stat");

    public static final long ST_SIZE = offset(LAYOUT, "st_size");
    /** 512-byte blocks allocated to the file. */
    public static final long ST_BLOCKS = offset(LAYOUT, "st_blocks");

    private Stat() {}
}
