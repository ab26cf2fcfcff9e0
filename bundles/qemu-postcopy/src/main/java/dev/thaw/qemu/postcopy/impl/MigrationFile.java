package dev.thaw.qemu.postcopy.impl;

import dev.thaw.format.qemu.MigrationStream;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.format.qemu.QemuMigrationFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * A QEMU mapped-ram file checked for serving as a postcopy stream, everything a stream needs of it read
 * before a byte is sent: the configuration without {@code mapped-ram}, the RAM blocks, the device sections.
 * Pages are read through the format's reader, which the caller keeps open while a source serves them.
 */
public final class MigrationFile {

    private final SnapshotReader reader;
    private final String machine;
    private final List<String> capabilities;
    private final Optional<UUID> uuid;
    private final long ramSectionId;
    private final List<SourceBlock> blocks;
    private final Map<String, SourceBlock> byName = new HashMap<>();
    private final long[] blockStarts;
    private final long pages;
    private final long presentPages;
    private final byte[] deviceSections;

    private MigrationFile(SnapshotReader reader, QemuMigrationFile qemu) {
        this.reader = reader;
        Path file = reader.file();
        this.machine = reader.origin().machine();
        List<String> caps = new ArrayList<>(reader.origin().capabilities());
        if (caps.contains("x-ignore-shared")) {
            throw new SnapshotException(file, "saved with x-ignore-shared: its RAM blocks would need their addresses in "
                    + "the stream, which Thaw does not serve; save it again without x-ignore-shared");
        }
        // docs/qemu-postcopy.md 4: the destination refuses a stream that lists mapped-ram, and must not have it on
        caps.remove(MigrationStream.MAPPED_RAM);
        this.capabilities = List.copyOf(caps);
        this.uuid = qemu.uuid();
        this.ramSectionId = qemu.ramSectionId();
        if (qemu.ramSectionVersion() != Protocol.RAM_VERSION) {
            throw new SnapshotException(file, "its ram section is version " + qemu.ramSectionVersion() + "; QEMU's postcopy "
                    + "loader takes version " + Protocol.RAM_VERSION + " only");
        }
        List<SourceBlock> list = new ArrayList<>();
        long first = 0;
        long present = 0;
        for (int i = 0; i < reader.regions().size(); i++) {
            SnapshotRegion r = reader.regions().get(i);
            if (r.pageSize() != Protocol.PAGE_SIZE) {
                throw new SnapshotException(file, "RAM block " + r.name() + " has " + r.pageSize() + "-byte pages; a postcopy "
                        + "stream serves " + Protocol.PAGE_SIZE + "-byte pages only");
            }
            SourceBlock b = new SourceBlock(i, r.name(), r.size(), first);
            if (byName.put(b.name(), b) != null) {
                throw new SnapshotException(file, "it names RAM block " + b.name() + " twice");
            }
            list.add(b);
            first += b.pages();
            present += r.presentPages();
        }
        if (list.isEmpty()) {
            throw new SnapshotException(file, "it has no RAM block to serve");
        }
        this.blocks = List.copyOf(list);
        this.blockStarts = list.stream().mapToLong(SourceBlock::firstPage).toArray();
        this.pages = first;
        this.presentPages = present;
        this.deviceSections = qemu.deviceSections();
        if (deviceSections.length == 0 || deviceSections[0] != MigrationStream.SECTION_FULL) {
            throw new SnapshotException(file, "its device state does not start with a device section (the stream's "
                    + "package would hold no devices)");
        }
    }

    /**
     * Checks {@code reader}'s file for serving: a QEMU mapped-ram file without x-ignore-shared, 4 KiB pages, the
     * RAM section of the version QEMU's postcopy loader reads, device sections that can be copied; reads those.
     *
     * @throws SnapshotException naming the file and the problem
     */
    public static MigrationFile of(SnapshotReader reader) {
        if (!(reader instanceof QemuMigrationFile qemu)) {
            throw new SnapshotException(reader.file(), "a " + reader.format() + " snapshot, not a QEMU mapped-ram file: "
                    + "only those can be served to QEMU");
        }
        return new MigrationFile(reader, qemu);
    }

    Path file() {
        return reader.file();
    }

    String machine() {
        return machine;
    }

    /** The file's validated capabilities but {@code mapped-ram}: what the stream's configuration lists. */
    List<String> capabilities() {
        return capabilities;
    }

    Optional<UUID> uuid() {
        return uuid;
    }

    long ramSectionId() {
        return ramSectionId;
    }

    List<SourceBlock> blocks() {
        return blocks;
    }

    /** The block named {@code name}, if the file has one. */
    Optional<SourceBlock> block(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The block holding {@code page} (numbered across all blocks). */
    SourceBlock blockOf(long page) {
        int i = Arrays.binarySearch(blockStarts, page);
        return blocks.get(i >= 0 ? i : -i - 2);
    }

    /** Pages of all blocks. */
    long pages() {
        return pages;
    }

    /** Pages the file holds; the others are zero. */
    long presentPages() {
        return presentPages;
    }

    boolean present(long page) {
        SourceBlock b = blockOf(page);
        return reader.isPresent(b.region(), page - b.firstPage());
    }

    /** Reads {@code count} pages from {@code page}, all in one block, into {@code into}. */
    void read(long page, long count, MemorySegment into) {
        SourceBlock b = blockOf(page);
        reader.readPages(b.region(), page - b.firstPage(), count, into);
    }

    /** The file's device sections, byte for byte (a copy is not made: the stream writer only reads them). */
    byte[] deviceSections() {
        return deviceSections;
    }
}
