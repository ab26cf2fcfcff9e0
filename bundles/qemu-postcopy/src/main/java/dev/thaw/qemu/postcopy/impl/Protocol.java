package dev.thaw.qemu.postcopy.impl;

/**
 * The numbers of QEMU's migration stream and return path that a postcopy source uses, by QEMU's names
 * (docs/qemu-postcopy.md; QEMU's migration/savevm.c, ram.c, migration.c). All integers on the wire are
 * big-endian.
 */
final class Protocol {

    private Protocol() {}

    static final int MAGIC = 0x5145564D; // "QEVM"
    static final int VERSION = 3;

    // Section types (5.1)
    static final int EOF = 0x00;
    static final int SECTION_START = 0x01;
    static final int SECTION_PART = 0x02;
    static final int SECTION_END = 0x03;
    static final int SECTION_FULL = 0x04;
    static final int SUBSECTION = 0x05;
    static final int CONFIGURATION = 0x07;
    static final int COMMAND = 0x08;
    static final int FOOTER = 0x7e;

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

    // RAM record flags (5.2, 5.3)
    static final long RAM_ZERO = 0x02;
    static final long RAM_MEM_SIZE = 0x04;
    static final long RAM_PAGE = 0x08;
    static final long RAM_EOS = 0x10;
    static final long RAM_CONTINUE = 0x20;
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

    // Configuration (4)
    static final String CAPABILITIES = "configuration/capabilities";
    static final String UUID = "configuration/uuid";
    static final int SUBSECTION_VERSION = 1;
    /** A file's capability that a socket stream must not carry: the destination refuses it. */
    static final String MAPPED_RAM = "mapped-ram";

    /** x86 QEMU's target page, the only block page size served: ADVISE's two sizes and every record's unit. */
    static final int PAGE_SIZE = 4096;
    /** A str8's longest text. */
    static final int MAX_STR8 = 255;
}
