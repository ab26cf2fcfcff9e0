package dev.thaw.format.qemu;

/**
 * The numbers and names of QEMU's migration stream that both its readers and its writers use, by QEMU's
 * names (docs/qemu-mapped-ram.md, docs/qemu-postcopy.md; QEMU's migration/savevm.c and ram.c). Integers on
 * the wire are big-endian.
 */
public final class MigrationStream {

    private MigrationStream() {}

    /** The stream's first four bytes, "QEVM". */
    public static final int MAGIC = 0x5145564D;
    /** The stream version QEMU 9 and 10 write and read. */
    public static final int VERSION = 3;

    // Section types: the byte that starts each part of the stream.
    public static final int SECTION_EOF = 0x00;
    public static final int SECTION_START = 0x01;
    public static final int SECTION_PART = 0x02;
    public static final int SECTION_END = 0x03;
    public static final int SECTION_FULL = 0x04;
    public static final int SUBSECTION = 0x05;
    public static final int VMDESCRIPTION = 0x06;
    public static final int CONFIGURATION = 0x07;
    public static final int COMMAND = 0x08;
    /** A section's footer: this byte, then the section's id. */
    public static final int FOOTER = 0x7e;

    // RAM record flags, in the low bits of a RAM section's be64 words.
    public static final long RAM_ZERO = 0x02;
    public static final long RAM_MEM_SIZE = 0x04;
    public static final long RAM_PAGE = 0x08;
    public static final long RAM_EOS = 0x10;
    public static final long RAM_CONTINUE = 0x20;
    public static final long RAM_MULTIFD_FLUSH = 0x200;
    /** The flags below the smallest page size; the rest of a RAM word is a size or an address. */
    public static final long RAM_FLAG_MASK = 0x3ff;

    // The configuration section's subsections and the capabilities they may name.
    public static final String CAPABILITIES_SUBSECTION = "configuration/capabilities";
    public static final String UUID_SUBSECTION = "configuration/uuid";
    public static final String MAPPED_RAM = "mapped-ram";
    public static final String IGNORE_SHARED = "x-ignore-shared";
}
