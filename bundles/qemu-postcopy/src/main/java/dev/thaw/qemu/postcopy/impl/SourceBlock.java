package dev.thaw.qemu.postcopy.impl;

import java.nio.charset.StandardCharsets;

/**
 * One RAM block of the file as the stream names it: its pages are numbered across all blocks, block 0's
 * first, as page policies number them.
 */
final class SourceBlock {

    private final int region;
    private final String name;
    private final byte[] idstr;
    private final long usedLength;
    private final long firstPage;

    SourceBlock(int region, String name, long usedLength, long firstPage) {
        this.region = region;
        this.name = name;
        this.idstr = name.getBytes(StandardCharsets.US_ASCII);
        if (idstr.length == 0 || idstr.length > Protocol.MAX_STR8) {
            throw new IllegalArgumentException("RAM block name '" + name + "' is not 1 to " + Protocol.MAX_STR8 + " bytes");
        }
        this.usedLength = usedLength;
        this.firstPage = firstPage;
    }

    /** The block's index among the reader's regions. */
    int region() {
        return region;
    }

    String name() {
        return name;
    }

    /** The name as the stream writes it (QEMU's idstr: ASCII). */
    byte[] idstr() {
        return idstr;
    }

    long usedLength() {
        return usedLength;
    }

    long pages() {
        return usedLength / Protocol.PAGE_SIZE;
    }

    /** Its first page in the numbering across all blocks. */
    long firstPage() {
        return firstPage;
    }

    /** One past its last page in that numbering. */
    long endPage() {
        return firstPage + pages();
    }
}
