package dev.thaw.qemu.postcopy.impl;

/**
 * The numbers of QEMU's migration stream and return path that only a postcopy source uses, by QEMU's names
 * (docs/qemu-postcopy.md; QEMU's migration/savevm.c, ram.c, migration.c); those a reader of the stream uses
 * too are in {@link dev.thaw.format.qemu.MigrationStream}. All integers on the wire are big-endian.
 */
final class Protocol {

    private Protocol() {}

    // Commands (6)
    static final int CMD_OPEN_RETURN_PATH = 1;
    static final int CMD_PING = 2;
    static final int CMD_POSTCOPY_ADVISE = 3;
    static final int CMD_POSTCOPY_LISTEN = 4;
    static final int CMD_POSTCOPY_RUN = 5;
    static final int CMD_POSTCOPY_RAM_DISCARD = 6;
    static final int CMD_PACKAGED = 7;
    /** postcopy_ram_discard_version. */
    static final int DISCARD_VERSION = 0;

    // The RAM section (5.2, 5.3)
    /** The RAM section's idstr and the only version ram_load takes. */
    static final String RAM_IDSTR = "ram";
    static final long RAM_VERSION = 4;

    // Return-path messages (9.1)
    static final int RP_SHUT = 1;
    static final int RP_PONG = 2;
    static final int RP_REQ_PAGES_ID = 3;
    static final int RP_REQ_PAGES = 4;
    /** QEMU's own source refuses longer return-path messages. */
    static final int RP_MAX_LENGTH = 512;

    // The configuration section's subsections (4)
    static final int SUBSECTION_VERSION = 1;

    /** x86 QEMU's target page, the only block page size served: ADVISE's two sizes and every record's unit. */
    static final int PAGE_SIZE = 4096;
    /** A str8's longest text. */
    static final int MAX_STR8 = 255;
}
