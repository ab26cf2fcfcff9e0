package dev.thaw.qemu.postcopy.impl;

import dev.thaw.format.qemu.MigrationStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One RAM section PART of page records (docs/qemu-postcopy.md 5.3), built in a direct buffer of a fixed size:
 * a ZERO record for a page the file does not hold, a PAGE record with its 4096 bytes for one it does. The first
 * record names its block, and so does every record whose block differs from the one before; the others have
 * CONTINUE. Reused from one part to the next.
 */
final class RamPart {

    /** A record at most: flags word, str8 name, the page. */
    private static final int MAX_RECORD = 8 + 1 + Protocol.MAX_STR8 + Protocol.PAGE_SIZE;
    /** Section header, EOS, footer. */
    private static final int FRAMING = 5 + 8 + 5;

    private final long sectionId;
    private final int maxRecords;
    private final ByteBuffer buffer;
    private final MemorySegment segment;
    private SourceBlock named;
    private int records;

    RamPart(long sectionId, int maxRecords) {
        this.sectionId = sectionId;
        this.maxRecords = maxRecords;
        this.buffer = ByteBuffer.allocateDirect(FRAMING + maxRecords * MAX_RECORD);
        this.segment = MemorySegment.ofBuffer(buffer);
    }

    /** Starts a new part: its section header. */
    void begin() {
        buffer.clear();
        buffer.put((byte) MigrationStream.SECTION_PART).putInt((int) sectionId);
        named = null;
        records = 0;
    }

    int records() {
        return records;
    }

    boolean full() {
        return records == maxRecords;
    }

    /** A ZERO record for page {@code page} of {@code block} (numbered within the block). */
    void zero(SourceBlock block, long page) {
        header(block, page, MigrationStream.RAM_ZERO);
        buffer.put((byte) 0); // the fill byte: QEMU refuses any other
    }

    /** A PAGE record for page {@code page} of {@code block}; returns where its 4096 bytes go, to be filled. */
    MemorySegment page(SourceBlock block, long page) {
        header(block, page, MigrationStream.RAM_PAGE);
        MemorySegment data = segment.asSlice(buffer.position(), Protocol.PAGE_SIZE);
        buffer.position(buffer.position() + Protocol.PAGE_SIZE);
        return data;
    }

    private void header(SourceBlock block, long page, long flags) {
        if (full()) {
            throw new IllegalStateException("a part of " + maxRecords + " records is full");
        }
        long word = page * Protocol.PAGE_SIZE | flags;
        if (block == named) {
            buffer.putLong(word | MigrationStream.RAM_CONTINUE);
        } else {
            buffer.putLong(word).put((byte) block.idstr().length).put(block.idstr());
            named = block;
        }
        records++;
    }

    /** Ends the part (EOS, footer) and returns its bytes, valid until the next {@link #begin}. */
    ByteBuffer finish() {
        buffer.putLong(MigrationStream.RAM_EOS).put((byte) MigrationStream.FOOTER).putInt((int) sectionId);
        return buffer.flip();
    }
}
