package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * {@code struct stat} (sys/stat.h, x86-64), for stat(2) and fstat(2): only the members Thaw reads are
 * named, the rest is padding (the layout test still checks the struct's size and these offsets).
 */
public final class Stat {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("st_dev"), U64.withName("st_ino"), U64.withName("st_nlink"), MemoryLayout.paddingLayout(24),
            U64.withName("st_size"), MemoryLayout.paddingLayout(8), U64.withName("st_blocks"),
            MemoryLayout.paddingLayout(16), Timespec.LAYOUT.withName("st_mtim"), Timespec.LAYOUT.withName("st_ctim"),
            MemoryLayout.paddingLayout(24))
            .withName("struct stat");

    public static final long ST_DEV = offset(LAYOUT, "st_dev");
    public static final long ST_INO = offset(LAYOUT, "st_ino");
    public static final long ST_NLINK = offset(LAYOUT, "st_nlink");
    public static final long ST_SIZE = offset(LAYOUT, "st_size");
    /** 512-byte blocks allocated to the file. */
    public static final long ST_BLOCKS = offset(LAYOUT, "st_blocks");
    public static final long ST_MTIM_SEC = offset(LAYOUT, "st_mtim", "tv_sec");
    public static final long ST_MTIM_NSEC = offset(LAYOUT, "st_mtim", "tv_nsec");
    public static final long ST_CTIM_SEC = offset(LAYOUT, "st_ctim", "tv_sec");
    public static final long ST_CTIM_NSEC = offset(LAYOUT, "st_ctim", "tv_nsec");

    private Stat() {}
}
