package dev.thaw.format.thaw.impl;

import static dev.thaw.format.thaw.impl.Layout.PAGE_SIZE;

import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.format.thaw.impl.Layout.Header;
import dev.thaw.format.thaw.impl.Layout.RegionEntry;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * What {@link ThawSnapshotReader#open} checks of a Thaw snapshot file before it serves a page: the
 * header, the region table and the state (their checksums, every section's offset against the file's
 * length, the state against the region table), in the order docs/snapshot-format.md gives. Every
 * allocation is bounded by a length already checked against the file's size.
 */
final class ThawFileValidator {

    /** A file that passed: its machine state and region table. */
    record Checked(MachineState state, List<RegionEntry> entries) {}

    private ThawFileValidator() {}

    /** A byte range of the file, named for messages. */
    private record Extent(String name, long offset, long length) {
        String range() {
            return "[" + offset + ", " + (offset + length) + ")";
        }
    }

    /**
     * Checks the file behind {@code channel}, stopping at the first problem.
     *
     * @throws SnapshotException naming the file and the problem
     * @throws IOException when the file cannot be read
     */
    static Checked check(Path file, FileChannel channel, StateCache states) throws IOException {
        long length = channel.size();
        Header h = readHeader(file, channel, length);

        // Region table.
        long count = Integer.toUnsignedLong(h.regionCount());
        if (count < 1 || count > Layout.MAX_REGIONS) {
            throw fail(file, "region count " + count + " is out of range (1 to " + Layout.MAX_REGIONS + ")");
        }
        Extent table = new Extent("region table", h.regionTableOffset(), count * Layout.REGION_ENTRY_SIZE);
        checkInside(file, table, h.headerSize(), length);
        ByteBuffer tableBytes = readBuffer(channel, table.offset(), (int) table.length());
        checkCrc(file, "region table", h.regionTableCrc(), FileIo.crc32c(new CRC32C(), tableBytes, 0, tableBytes.capacity()));
        List<RegionEntry> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            entries.add(decodeEntry(file, tableBytes, i));
        }

        // Every section inside the file, none overlapping another.
        Extent stateExtent = new Extent("state", h.stateOffset(), h.stateLength());
        if (h.stateLength() <= 0 || h.stateLength() > Layout.MAX_STATE_BYTES) {
            throw fail(file, "state length " + Long.toUnsignedString(h.stateLength()) + " is out of range (1 to "
                    + Layout.MAX_STATE_BYTES + ")");
        }
        List<Extent> extents = new ArrayList<>(List.of(new Extent("header", 0, h.headerSize()), table, stateExtent));
        for (int i = 0; i < entries.size(); i++) {
            RegionEntry e = entries.get(i);
            String name = "region " + i + " (" + e.name() + ")";
            extents.add(new Extent(name + " bitmap", e.bitmapOffset(), e.bitmapLength()));
            extents.add(new Extent(name + " checksum table", e.checksumsOffset(), e.checksumsLength()));
            extents.add(new Extent(name + " page area", e.pagesOffset(), e.size()));
        }
        for (Extent e : extents) {
            checkInside(file, e, h.headerSize(), length);
        }
        extents.sort(Comparator.comparingLong(Extent::offset));
        for (int i = 1; i < extents.size(); i++) {
            Extent a = extents.get(i - 1);
            Extent b = extents.get(i);
            if (b.offset() < a.offset() + a.length()) {
                throw fail(file, "sections overlap: " + a.name() + " " + a.range() + " and " + b.name() + " " + b.range());
            }
        }

        // State, and the state against the region table.
        byte[] json = new byte[(int) h.stateLength()];
        FileIo.read(channel, MemorySegment.ofArray(json), h.stateOffset());
        checkCrc(file, "state", h.stateCrc(), Layout.crc32c(json, 0, json.length));
        MachineState state;
        try {
            state = states.parse(json);
        } catch (StateLimits.Beyond e) {
            throw new SnapshotException(file, "state JSON is beyond what a machine has: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new SnapshotException(file, "state JSON does not parse: " + StateJson.describe(e), e);
        }
        checkStateMatches(file, state, entries);

        // Bitmaps and checksum tables are read when pages need them (see RegionIndex).
        return new Checked(state, entries);
    }

    /** Magic, size, checksum and version, in that order; then the version 1 fields and the file length. */
    private static Header readHeader(Path file, FileChannel channel, long length) throws IOException {
        if (length == 0) {
            throw fail(file, "empty file, not a Thaw snapshot");
        }
        ByteBuffer head = readBuffer(channel, 0, (int) Math.min(length, Layout.HEADER_SIZE));
        int compared = (int) Math.min(length, Layout.MAGIC.length);
        if (!Arrays.equals(Layout.MAGIC, 0, compared, head.array(), 0, compared)) {
            throw fail(file, "not a Thaw snapshot (it starts with "
                    + HexFormat.ofDelimiter(" ").formatHex(head.array(), 0, compared) + ", not THAWSNAP)");
        }
        if (length < Layout.H_HEADER_SIZE + 4) {
            throw fail(file, "truncated: " + length + " bytes, shorter than its header");
        }
        long headerSize = Integer.toUnsignedLong(head.getInt(Layout.H_HEADER_SIZE));
        if (headerSize < Layout.HEADER_SIZE || headerSize > Layout.MAX_HEADER_SIZE || headerSize % Layout.HEADER_SIZE != 0) {
            throw fail(file, "header size " + headerSize + " is invalid (a multiple of 4096, at most "
                    + Layout.MAX_HEADER_SIZE + ")");
        }
        if (length < headerSize) {
            throw fail(file, "truncated: " + length + " bytes, shorter than its " + headerSize + "-byte header");
        }
        ByteBuffer header = headerSize == head.capacity() ? head : readBuffer(channel, 0, (int) headerSize);
        int crcAt = (int) headerSize - 4;
        checkCrc(file, "header", header.getInt(crcAt), FileIo.crc32c(new CRC32C(), header, 0, crcAt));
        Header h = Header.decode(header);
        long version = Integer.toUnsignedLong(h.version());
        if (version == 0) {
            throw fail(file, "version 0 is invalid");
        }
        if (version > Layout.VERSION) {
            throw fail(file, "version " + version + " is newer than this Thaw reads (" + Layout.VERSION + ")");
        }
        if (headerSize != Layout.HEADER_SIZE) {
            throw fail(file, "header size " + headerSize + ", version 1 has " + Layout.HEADER_SIZE);
        }
        if (h.pageSize() != PAGE_SIZE) {
            throw fail(file, "page size " + Integer.toUnsignedString(h.pageSize()) + ", version 1 has " + PAGE_SIZE);
        }
        if (h.flags() != 0) {
            throw fail(file, "unknown flags 0x" + Integer.toHexString(h.flags()));
        }
        if (h.regionEntrySize() != Layout.REGION_ENTRY_SIZE) {
            throw fail(file, "region entry size " + Integer.toUnsignedString(h.regionEntrySize()) + ", version 1 has "
                    + Layout.REGION_ENTRY_SIZE);
        }
        if (h.fileLength() != length) {
            throw fail(file, Long.compareUnsigned(length, h.fileLength()) < 0
                    ? "truncated: " + length + " bytes, its header says " + Long.toUnsignedString(h.fileLength())
                    : length + " bytes, longer than the " + h.fileLength() + " its header says");
        }
        return h;
    }

    private static RegionEntry decodeEntry(Path file, ByteBuffer table, int i) {
        int at = i * Layout.REGION_ENTRY_SIZE;
        long nameLength = Integer.toUnsignedLong(table.getInt(at + Layout.R_NAME_LENGTH));
        if (nameLength < 1 || nameLength > Layout.MAX_NAME_BYTES) {
            throw fail(file, "region " + i + ": name length " + nameLength + " is out of range (1 to "
                    + Layout.MAX_NAME_BYTES + ")");
        }
        String name;
        try {
            name = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(table.slice(at + Layout.R_NAME, (int) nameLength))
                    .toString();
        } catch (CharacterCodingException e) {
            throw fail(file, "region " + i + ": its name is not UTF-8");
        }
        RegionEntry e = new RegionEntry(name, table.getLong(at + Layout.R_GUEST_ADDRESS), table.getLong(at + Layout.R_SIZE),
                table.getLong(at + Layout.R_PAGES_OFFSET), table.getLong(at + Layout.R_PRESENT_PAGES),
                table.getLong(at + Layout.R_BITMAP_OFFSET), table.getLong(at + Layout.R_CHECKSUMS_OFFSET),
                table.getInt(at + Layout.R_BITMAP_CRC), table.getInt(at + Layout.R_CHECKSUMS_CRC));
        String problem = Regions.problem(e.name(), e.guestAddress(), e.size());
        if (problem != null) {
            throw fail(file, "region " + i + ": " + problem);
        }
        if (e.pagesOffset() % Layout.PAGES_ALIGN != 0) {
            throw fail(file, "region " + i + " (" + name + "): page area offset " + Long.toUnsignedString(e.pagesOffset())
                    + " is not a multiple of 1 MiB");
        }
        if (e.presentPages() < 0 || e.presentPages() > e.pages()) {
            throw fail(file, "region " + i + " (" + name + "): " + Long.toUnsignedString(e.presentPages())
                    + " present pages of " + e.pages());
        }
        return e;
    }

    /** The extent lies after the header and inside the file. */
    private static void checkInside(Path file, Extent e, long headerSize, long length) {
        if (e.name().equals("header")) {
            return;
        }
        if (e.offset() < headerSize || e.length() < 0 || e.offset() > length - e.length()) {
            throw fail(file, e.name() + " [" + Long.toUnsignedString(e.offset()) + ", "
                    + (e.length() < 0 ? "?" : Long.toUnsignedString(e.offset() + e.length()))
                    + ") lies outside the file's content [" + headerSize + ", " + length + ")");
        }
    }

    private static void checkStateMatches(Path file, MachineState state, List<RegionEntry> entries) {
        List<RegionLayout> listed = state.memory();
        if (listed.size() != entries.size()) {
            throw fail(file, "the state lists " + listed.size() + " memory regions, the region table "
                    + entries.size());
        }
        long total = 0;
        Set<String> names = new HashSet<>();
        List<RegionLayout> fromTable = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            RegionEntry e = entries.get(i);
            RegionLayout r = new RegionLayout(e.name(), e.guestAddress(), e.size());
            if (!r.equals(listed.get(i))) {
                throw fail(file, "the state's memory region " + i + " is " + Regions.describe(listed.get(i))
                        + ", the region table's " + Regions.describe(r));
            }
            if (!names.add(e.name())) {
                throw fail(file, "two regions are named " + e.name());
            }
            fromTable.add(r);
            total += e.size();
        }
        String overlap = Regions.overlap(fromTable);
        if (overlap != null) {
            throw fail(file, overlap);
        }
        if (total != state.boot().memoryBytes()) {
            throw fail(file, "the state's boot memory is " + state.boot().memoryBytes()
                    + " bytes, its regions add up to " + total);
        }
    }

    static void checkCrc(Path file, String what, int stored, int computed) {
        if (stored != computed) {
            throw fail(file, what + " checksum mismatch (stored " + Layout.hex32(stored) + ", computed "
                    + Layout.hex32(computed) + ")");
        }
    }

    private static ByteBuffer readBuffer(FileChannel channel, long position, int length) throws IOException {
        byte[] bytes = new byte[length];
        FileIo.read(channel, MemorySegment.ofArray(bytes), position);
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static SnapshotException fail(Path file, String problem) {
        return new SnapshotException(file, problem);
    }
}
