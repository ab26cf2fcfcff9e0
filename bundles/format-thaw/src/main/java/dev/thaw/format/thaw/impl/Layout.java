package dev.thaw.format.thaw.impl;

import dev.thaw.api.snapshot.RegionLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The Thaw snapshot file, version 1: every constant, field offset and placement rule in one place.
 * {@code docs/snapshot-format.md} describes the same layout for other implementers; {@code LayoutTest}
 * checks its worked example against {@link #plan}.
 *
 * <pre>
 * header (4096)  | region table (count x 128) | state JSON | per region: bitmap, checksum table | page areas
 * offset 0       | 4096                       | 4 KiB-aligned, in that order                  | 1 MiB-aligned
 * </pre>
 * All integers are little-endian; every checksum is CRC32C (Castagnoli, as {@link CRC32C}).
 */
final class Layout {

    static final byte[] MAGIC = "THAWSNAP".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_SIZE = 4096;
    /** Largest header size a reader accepts before checking the header checksum (versions after 1 may grow it). */
    static final int MAX_HEADER_SIZE = 1 << 20;
    static final int PAGE_SIZE = 4096;
    static final int PAGE_SHIFT = 12;
    static final int REGION_ENTRY_SIZE = 128;
    static final long SECTION_ALIGN = 4096;
    static final long PAGES_ALIGN = 1L << 20;
    static final int MAX_REGIONS = 1024;
    static final int MAX_NAME_BYTES = 64;
    /** A machine's state JSON: 10 to 40 KB per vCPU, so 1024 vCPUs fit with room (StateLimits). */
    static final int MAX_STATE_BYTES = 64 << 20;

    // Header fields: offset in the header. Bytes 72..4091 are reserved (zero).
    static final int H_MAGIC = 0;                 // 8 bytes "THAWSNAP"
    static final int H_VERSION = 8;               // u32
    static final int H_HEADER_SIZE = 12;          // u32
    static final int H_PAGE_SIZE = 16;            // u32
    static final int H_FLAGS = 20;                // u32, none defined
    static final int H_FILE_LENGTH = 24;          // u64
    static final int H_REGION_TABLE_OFFSET = 32;  // u64
    static final int H_REGION_COUNT = 40;         // u32
    static final int H_REGION_ENTRY_SIZE = 44;    // u32
    static final int H_REGION_TABLE_CRC = 48;     // u32
    static final int H_STATE_CRC = 52;            // u32
    static final int H_STATE_OFFSET = 56;         // u64
    static final int H_STATE_LENGTH = 64;         // u64
    /** The header checksum: the last 4 bytes of the header, over all bytes before them. */
    static final int H_CRC = HEADER_SIZE - 4;

    // Region table entry fields: offset in the 128-byte entry.
    static final int R_GUEST_ADDRESS = 0;         // u64
    static final int R_SIZE = 8;                  // u64
    static final int R_PAGES_OFFSET = 16;         // u64
    static final int R_PRESENT_PAGES = 24;        // u64
    static final int R_BITMAP_OFFSET = 32;        // u64
    static final int R_CHECKSUMS_OFFSET = 40;     // u64
    static final int R_BITMAP_CRC = 48;           // u32
    static final int R_CHECKSUMS_CRC = 52;        // u32
    static final int R_NAME_LENGTH = 56;          // u32
    static final int R_NAME = 64;                 // 64 bytes UTF-8, zero-padded; 60..63 reserved

    private Layout() {}

    /** The header's fields (magic and checksum are implied). */
    record Header(int version, int headerSize, int pageSize, int flags, long fileLength, long regionTableOffset,
            int regionCount, int regionEntrySize, int regionTableCrc, int stateCrc, long stateOffset, long stateLength) {

        /** The 4096 header bytes of version 1, checksum included. */
        byte[] encode() {
            ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            b.put(H_MAGIC, MAGIC)
                    .putInt(H_VERSION, version)
                    .putInt(H_HEADER_SIZE, headerSize)
                    .putInt(H_PAGE_SIZE, pageSize)
                    .putInt(H_FLAGS, flags)
                    .putLong(H_FILE_LENGTH, fileLength)
                    .putLong(H_REGION_TABLE_OFFSET, regionTableOffset)
                    .putInt(H_REGION_COUNT, regionCount)
                    .putInt(H_REGION_ENTRY_SIZE, regionEntrySize)
                    .putInt(H_REGION_TABLE_CRC, regionTableCrc)
                    .putInt(H_STATE_CRC, stateCrc)
                    .putLong(H_STATE_OFFSET, stateOffset)
                    .putLong(H_STATE_LENGTH, stateLength);
            b.putInt(H_CRC, crc32c(b.array(), 0, H_CRC));
            return b.array();
        }

        /** Reads the fields of a header whose magic and checksum were checked. */
        static Header decode(ByteBuffer b) {
            b.order(ByteOrder.LITTLE_ENDIAN);
            return new Header(b.getInt(H_VERSION), b.getInt(H_HEADER_SIZE), b.getInt(H_PAGE_SIZE), b.getInt(H_FLAGS),
                    b.getLong(H_FILE_LENGTH), b.getLong(H_REGION_TABLE_OFFSET), b.getInt(H_REGION_COUNT),
                    b.getInt(H_REGION_ENTRY_SIZE), b.getInt(H_REGION_TABLE_CRC), b.getInt(H_STATE_CRC),
                    b.getLong(H_STATE_OFFSET), b.getLong(H_STATE_LENGTH));
        }
    }

    /** One region table entry. */
    record RegionEntry(String name, long guestAddress, long size, long pagesOffset, long presentPages,
            long bitmapOffset, long checksumsOffset, int bitmapCrc, int checksumsCrc) {

        long pages() {
            return size >>> PAGE_SHIFT;
        }

        long bitmapLength() {
            return Layout.bitmapLength(pages());
        }

        long checksumsLength() {
            return Layout.checksumsLength(pages());
        }

        void encode(ByteBuffer table, int index) {
            int at = index * REGION_ENTRY_SIZE;
            byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
            table.order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(at + R_GUEST_ADDRESS, guestAddress)
                    .putLong(at + R_SIZE, size)
                    .putLong(at + R_PAGES_OFFSET, pagesOffset)
                    .putLong(at + R_PRESENT_PAGES, presentPages)
                    .putLong(at + R_BITMAP_OFFSET, bitmapOffset)
                    .putLong(at + R_CHECKSUMS_OFFSET, checksumsOffset)
                    .putInt(at + R_BITMAP_CRC, bitmapCrc)
                    .putInt(at + R_CHECKSUMS_CRC, checksumsCrc)
                    .putInt(at + R_NAME_LENGTH, utf8.length)
                    .put(at + R_NAME, utf8);
        }
    }

    /** Bytes of a region's page bitmap: one bit per page, whole 64-bit words (as QEMU's mapped-ram). */
    static long bitmapLength(long pages) {
        return (pages + 63) / 64 * 8;
    }

    /** Bytes of a region's checksum table: one u32 per page. */
    static long checksumsLength(long pages) {
        return pages * 4;
    }

    static long alignUp(long value, long alignment) {
        return Math.addExact(value, alignment - 1) & -alignment;
    }

    /** Where a region's sections go. */
    record Placement(long bitmapOffset, long checksumsOffset, long pagesOffset) {}

    /** Where every section of a file goes, given its regions and the length of its state JSON. */
    record Plan(long regionTableOffset, long stateOffset, long stateLength, List<Placement> regions, long fileLength) {}

    /**
     * The writer's placement: header at 0; region table at 4096; the state, then each region's bitmap and
     * checksum table, each at the next 4 KiB boundary; then each region's page area at the next 1 MiB
     * boundary; the file ends where the last page area ends.
     */
    static Plan plan(List<RegionLayout> regions, long stateLength) {
        long regionTableOffset = HEADER_SIZE;
        long at = alignUp(regionTableOffset + (long) regions.size() * REGION_ENTRY_SIZE, SECTION_ALIGN);
        long stateOffset = at;
        at = alignUp(Math.addExact(at, stateLength), SECTION_ALIGN);
        long[] bitmaps = new long[regions.size()];
        long[] checksums = new long[regions.size()];
        for (int i = 0; i < regions.size(); i++) {
            long pages = regions.get(i).size() >>> PAGE_SHIFT;
            bitmaps[i] = at;
            at = alignUp(Math.addExact(at, bitmapLength(pages)), SECTION_ALIGN);
            checksums[i] = at;
            at = alignUp(Math.addExact(at, checksumsLength(pages)), SECTION_ALIGN);
        }
        List<Placement> placements = new ArrayList<>(regions.size());
        for (int i = 0; i < regions.size(); i++) {
            long pagesOffset = alignUp(at, PAGES_ALIGN);
            placements.add(new Placement(bitmaps[i], checksums[i], pagesOffset));
            at = Math.addExact(pagesOffset, regions.get(i).size());
        }
        return new Plan(regionTableOffset, stateOffset, stateLength, List.copyOf(placements), at);
    }

    static int crc32c(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    static String hex32(int value) {
        return String.format("0x%08x", value);
    }
}
