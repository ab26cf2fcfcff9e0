package dev.thaw.format.qemu.impl;

import static dev.thaw.format.qemu.MigrationStream.*;

import dev.thaw.api.snapshot.SnapshotDevice;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Walks the stream of a mapped-ram file (docs/qemu-mapped-ram.md): header, configuration section, the RAM
 * section's block headers, the RAM section's later parts, then the device sections, and the VMDESCRIPTION
 * JSON after the end. Every count and offset is checked against the file before it is used.
 */
final class StreamParser {

    static final long MAPPED_RAM_HEADER_VERSION = 1;

    static final int MAX_MACHINE_NAME = 256;
    static final int MAX_CAPABILITIES = 256;
    static final int MAX_BLOCKS = 4096;
    /** A RAM block larger than this is taken for a corrupted length (its bitmap alone would be 128 MiB). */
    static final long MAX_BLOCK_BYTES = 1L << 42;
    /** All RAM blocks together. */
    static final long MAX_RAM_BYTES = 1L << 44;
    /**
     * The only page size read: x86 QEMU's TARGET_PAGE_SIZE, and what the restore engine copies in. A
     * smaller page multiplies the bitmap a block needs, a larger one every buffer that holds a page.
     */
    static final long PAGE_SIZE = 4096;
    static final int PAGE_BITS = 12;
    /**
     * Where a block's pages start: QEMU's MAPPED_RAM_FILE_OFFSET_ALIGNMENT, an absolute file offset (also with
     * {@code file:PATH,offset=N}). QEMU's own loader checks page alignment only, so that QEMU may change this
     * later; every QEMU from 9.0 to 10 writes 1 MiB, and a stricter check catches more damaged offsets.
     */
    static final long PAGES_ALIGNMENT = 1L << 20;
    /** Flag words between the parts of the RAM section's EOS markers. */
    static final int MAX_RAM_FLAGS = 1024;
    /** A device section longer than this while looking for its footer is taken for a corrupted stream. */
    static final long MAX_DEVICE_SECTION = 64L << 20;
    /**
     * All device sections together: a machine's device state is kilobytes to a few megabytes. Bounds the bytes
     * scanned for footers, which a sparse file could otherwise make terabytes of holes.
     */
    static final long MAX_DEVICE_SECTIONS = 64L << 20;
    static final int MAX_COMMAND = 1 << 16;
    /** QEMU's last command number (MIG_CMD_SWITCHOVER_START in QEMU 10); 0 is MIG_CMD_INVALID. */
    static final int LAST_COMMAND = 0x0b;

    private final Cursor in;
    private final List<String> capabilities = new ArrayList<>();
    private final List<RamBlock> blocks = new ArrayList<>();
    private final List<SnapshotDevice> sectionDevices = new ArrayList<>();
    /** The ids of the sections started so far: QEMU gives each handler one id and writes its section once. */
    private final Set<Long> sectionIds = new HashSet<>();
    private String machine;
    private long ramSection = -1;
    private long ramVersion = -1;
    private UUID uuid;
    /** Where the first device section starts, and the EOF byte after the last; -1 until found. */
    private long devicesStart = -1;
    private long devicesEnd = -1;
    /** A command or RAM part among the device sections: their bytes are not one run of sections. */
    private boolean devicesInterrupted;
    private boolean footers;
    /** Bytes of device state skipped so far. */
    private long deviceBytes;

    private StreamParser(Cursor in) {
        this.in = in;
    }

    static QemuStream parse(Cursor in) {
        return new StreamParser(in).parse();
    }

    private QemuStream parse() {
        header();
        configuration();
        boolean walkedToEnd = sections();
        MigrationLayout layout = new MigrationLayout(ramSection, ramVersion, Optional.ofNullable(uuid),
                devicesEnd < 0 || devicesInterrupted ? -1 : devicesStart < 0 ? devicesEnd : devicesStart,
                devicesInterrupted ? -1 : devicesEnd);
        List<SnapshotDevice> fromJson = VmDescription.devices(in, walkedToEnd);
        if (fromJson != null && walkedToEnd) {
            matchDescription(fromJson);
        }
        if (fromJson != null) {
            return new QemuStream(machine, capabilities, blocks, fromJson, "vmdescription", layout);
        }
        return walkedToEnd ? new QemuStream(machine, capabilities, blocks, sectionDevices, "sections", layout)
                : new QemuStream(machine, capabilities, blocks, List.of(), "none", layout);
    }

    private void header() {
        long at = in.position();
        if (in.be32("the magic") != MAGIC) {
            throw new BadStream("not a QEMU migration stream (no QEVM magic at byte " + at + ")");
        }
        long version = in.be32("the stream version");
        if (version != VERSION) {
            throw new BadStream("QEMU stream version " + version + " (this reader knows version " + VERSION + ")");
        }
    }

    private void configuration() {
        long at = in.position();
        if (in.peek() != CONFIGURATION) {
            throw new BadStream("no configuration section at byte " + at + ", so the file does not say it was written with "
                    + "mapped-ram; save it again with QEMU 9 or later: migrate_set_capability mapped-ram on, then migrate file:PATH");
        }
        in.u8("the configuration section");
        long length = in.be32("the machine type's length");
        if (length == 0 || length > MAX_MACHINE_NAME) {
            throw new BadStream("the machine type at byte " + (in.position() - 4) + " is " + length + " bytes long (1 to "
                    + MAX_MACHINE_NAME + ")");
        }
        machine = in.name((int) length, "the machine type");
        while (in.peek() == SUBSECTION) {
            subsection();
        }
        if (!capabilities.contains(MAPPED_RAM)) {
            throw new BadStream("a QEMU migration stream without the mapped-ram capability: its pages are inline, not at "
                    + "fixed offsets; save it again with migrate_set_capability mapped-ram on (QEMU 9 or later)");
        }
    }

    private void subsection() {
        in.u8("a subsection");
        long at = in.position();
        String name = in.shortName("a configuration subsection's name");
        in.be32("the subsection's version");
        switch (name) {
            case CAPABILITIES_SUBSECTION -> {
                long count = in.be32("the number of capabilities");
                if (count > MAX_CAPABILITIES) {
                    throw new BadStream("the configuration lists " + count + " capabilities (at most " + MAX_CAPABILITIES + ")");
                }
                for (long i = 0; i < count; i++) {
                    capabilities.add(in.shortName("a capability's name"));
                }
            }
            case "configuration/target-page-bits" -> {
                long bits = in.be32("the target page bits");
                if (bits != PAGE_BITS) {
                    throw new BadStream("the configuration says the target's pages are 2^" + bits + " bytes; x86 QEMU "
                            + "writes " + PAGE_SIZE + "-byte pages, the only size Thaw serves");
                }
            }
            case UUID_SUBSECTION -> {
                ByteBuffer b = ByteBuffer.wrap(in.bytes(16, "the VM's UUID"));
                uuid = new UUID(b.getLong(), b.getLong());
            }
            default -> throw new BadStream("unknown configuration subsection '" + name + "' at byte " + at);
        }
    }

    /** Reads sections up to the end; false when a device section cannot be walked (no footers). */
    private boolean sections() {
        while (true) {
            long at = in.position();
            int type = in.u8("a section type");
            switch (type) {
                case SECTION_START, SECTION_FULL -> {
                    long id = in.be32("a section id");
                    String idstr = in.shortName("a section's name");
                    long instance = in.be32("a section's instance id");
                    long version = in.be32("a section's version");
                    if (type == SECTION_START) {
                        if (!idstr.equals("ram") || ramSection >= 0) {
                            throw new BadStream("section '" + idstr + "' at byte " + at + " starts an iterative state this "
                                    + "reader cannot walk (only ram's)");
                        }
                        ramSection = id;
                        ramVersion = version;
                        sectionIds.add(id);
                        ramSetup();
                    } else {
                        if (ramSection < 0) {
                            throw new BadStream("device section '" + idstr + "' at byte " + at + " comes before the ram section");
                        }
                        if (sectionDevices.size() == VmDescription.MAX_DEVICES) {
                            throw new BadStream("more than " + VmDescription.MAX_DEVICES + " device sections (one more at byte "
                                    + at + ")");
                        }
                        SnapshotDevice device = new SnapshotDevice(idstr, instance, version);
                        sectionDevices.add(device);
                        sectionIds.add(id);
                        if (devicesStart < 0) {
                            devicesStart = at;
                        }
                        if (!footers) {
                            return false; // its length is known only to the device: stop here
                        }
                        skipToFooter(id, idstr, at);
                    }
                    footer(id, at);
                }
                case SECTION_PART, SECTION_END -> {
                    long id = in.be32("a section id");
                    devicesInterrupted |= devicesStart >= 0;
                    if (id != ramSection) {
                        throw new BadStream("section " + id + " continues at byte " + at + " but was never started");
                    }
                    ramFlags();
                    footer(id, at);
                }
                case COMMAND -> {
                    devicesInterrupted |= devicesStart >= 0;
                    in.be16("a command");
                    int length = in.be16("a command's length");
                    in.seek(in.position() + length);
                }
                case SECTION_EOF -> {
                    if (ramSection < 0) {
                        throw new BadStream("the stream ends at byte " + at + " without a ram section");
                    }
                    devicesEnd = at;
                    return true;
                }
                default -> throw new BadStream(String.format("unknown section type 0x%02x at byte %d", type, at));
            }
        }
    }

    /** The RAM section's start: total size, then per block its id, length and mapped-ram header. */
    private void ramSetup() {
        long word = in.be64("the RAM size");
        if ((word & RAM_FLAG_MASK) != RAM_MEM_SIZE) {
            throw new BadStream(String.format("the ram section starts with flags 0x%x, not the RAM size", word & RAM_FLAG_MASK));
        }
        long total = word & ~RAM_FLAG_MASK;
        if (total > MAX_RAM_BYTES) {
            throw new BadStream("the ram section says the guest has " + total + " bytes of RAM (at most " + MAX_RAM_BYTES + ")");
        }
        long sum = 0;
        while (sum < total) {
            if (blocks.size() == MAX_BLOCKS) {
                throw new BadStream("more than " + MAX_BLOCKS + " RAM blocks");
            }
            RamBlock b = block();
            sum += b.usedLength();
            if (sum > total) {
                throw new BadStream("RAM block " + b.name() + " ends at " + sum + " bytes, past the " + total
                        + " the ram section says");
            }
        }
        if (sum != total) {
            throw new BadStream("the RAM blocks hold " + sum + " bytes, the ram section says " + total);
        }
        ramFlags();
    }

    private RamBlock block() {
        long at = in.position();
        String name = in.shortName("a RAM block's name");
        long used = in.be64("RAM block " + name + "'s length");
        if (capabilities.contains(IGNORE_SHARED)) {
            in.be64("RAM block " + name + "'s address");
        }
        long version = in.be32("RAM block " + name + "'s mapped-ram header");
        long pageSize = in.be64("RAM block " + name + "'s page size");
        long bitmapOffset = in.be64("RAM block " + name + "'s bitmap offset");
        long pagesOffset = in.be64("RAM block " + name + "'s pages offset");
        long headerEnd = in.position();
        String where = "RAM block " + name + " (at byte " + at + ")";
        if (version != MAPPED_RAM_HEADER_VERSION) {
            throw new BadStream(where + " has mapped-ram header version " + version + " (this reader knows "
                    + MAPPED_RAM_HEADER_VERSION + ")");
        }
        if (pageSize != PAGE_SIZE) {
            throw new BadStream(where + " has " + Long.toUnsignedString(pageSize) + "-byte pages; x86 QEMU writes "
                    + PAGE_SIZE + "-byte pages, the only size Thaw serves");
        }
        if (used <= 0 || used > MAX_BLOCK_BYTES || used % pageSize != 0) {
            throw new BadStream(where + " is " + used + " bytes long, not a whole number of " + pageSize + "-byte pages "
                    + "up to " + MAX_BLOCK_BYTES);
        }
        RamBlock b = new RamBlock(name, used, pageSize, bitmapOffset, pagesOffset);
        long size = in.size();
        // Every offset and length is checked against the file's size before anything is read or allocated for
        // it: a sparse file may be as long as it likes, but it cannot claim more than its length.
        if (bitmapOffset < 0 || bitmapOffset > size - b.bitmapBytes()) {
            throw new BadStream(where + ": its bitmap (" + b.bitmapBytes() + " bytes at byte "
                    + Long.toUnsignedString(bitmapOffset) + ") is not within the file (" + size + " bytes)");
        }
        if (bitmapOffset != headerEnd) { // where QEMU puts it; elsewhere, the offset is damaged
            throw new BadStream(where + ": its bitmap is at byte " + bitmapOffset + ", not right after its header at byte "
                    + headerEnd);
        }
        if (pagesOffset < bitmapOffset + b.bitmapBytes() || pagesOffset > size - used) {
            throw new BadStream(where + ": its pages (" + used + " bytes at byte " + Long.toUnsignedString(pagesOffset)
                    + ") are not within the file (" + size + " bytes) after its bitmap");
        }
        if (pagesOffset % PAGES_ALIGNMENT != 0) {
            throw new BadStream(where + ": its pages start at byte " + pagesOffset + ", not at a multiple of 1 MiB as QEMU "
                    + "places them");
        }
        blocks.add(b);
        in.seek(pagesOffset + used); // the stream goes on after the block's page area
        return b;
    }

    /** Flag words up to the end-of-section marker: with mapped-ram no page is inline. */
    private void ramFlags() {
        for (int i = 0; i < MAX_RAM_FLAGS; i++) {
            long at = in.position();
            long word = in.be64("the ram section's flags");
            if (word == RAM_EOS) {
                return;
            }
            if (word != RAM_MULTIFD_FLUSH) {
                throw new BadStream(String.format("unexpected ram section flags 0x%x at byte %d (a mapped-ram stream has "
                        + "no inline pages)", word, at));
            }
        }
        throw new BadStream("the ram section has no end marker within " + MAX_RAM_FLAGS + " flag words");
    }

    /** The section footer, where the file has them: 0x7e and the section's id. */
    private void footer(long id, long sectionAt) {
        if (in.peek() != FOOTER) {
            if (footers) {
                throw new BadStream("section " + id + " at byte " + sectionAt + " has no footer, as earlier sections do");
            }
            return;
        }
        in.u8("a section footer");
        long got = in.be32("a section footer's id");
        if (got != id) {
            throw new BadStream("the footer at byte " + (in.position() - 5) + " closes section " + got + ", not " + id);
        }
        footers = true;
    }

    /**
     * Moves to the footer of device section {@code id}: its state's layout is the device's own, so its footer's
     * five bytes may also occur inside it (a register's value, say). A candidate is the footer only if what
     * follows it is what QEMU writes next; otherwise the scan goes on past it.
     */
    private void skipToFooter(long id, String idstr, long at) {
        byte[] footer = {(byte) FOOTER, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id};
        long budget = MAX_DEVICE_SECTIONS - deviceBytes;
        long start = in.position();
        long limit = start + Math.min(MAX_DEVICE_SECTION, budget);
        long found;
        while ((found = in.find(footer, limit)) >= 0 && !continuesAfter(found + footer.length)) {
            in.seek(found + 1);
        }
        if (found < 0) {
            throw new BadStream("device section '" + idstr + "' at byte " + at + " has no footer (the file ends, or is damaged)"
                    + (budget < MAX_DEVICE_SECTION ? " within the " + MAX_DEVICE_SECTIONS + " bytes all device sections may "
                    + "have" : ""));
        }
        deviceBytes += found - start;
        in.seek(found);
    }

    /**
     * Whether the bytes at {@code next} are what QEMU writes after a device section: a FULL header (an id no
     * section had, a printable name), a part of the ram section, a command QEMU knows, or the EOF byte followed by
     * the description or the file's end. Section ids do not say more: QEMU hands them out as handlers register,
     * but writes the handlers in priority order, so they need not increase along the stream. Reads nothing past
     * the file's end.
     */
    private boolean continuesAfter(long next) {
        in.seek(next);
        long left = in.size() - next;
        return left >= 1 && switch (in.u8("a section type")) {
            case SECTION_FULL -> left >= 1 + 4 + 1 && fullHeaderFollows(left - 5);
            case SECTION_PART, SECTION_END -> left >= 1 + 4 && in.be32("a section id") == ramSection;
            case COMMAND -> left >= 1 + 4 && knownCommand(in.be16("a command"));
            case SECTION_EOF -> left == 1 || left >= 1 + 5 && in.u8("the VMDESCRIPTION section") == VMDESCRIPTION
                    && in.be32("the VMDESCRIPTION length") == left - 6;
            default -> false;
        };
    }

    /** After a FULL section's type byte, with {@code left} bytes in the file after its id: the rest of a header. */
    private boolean fullHeaderFollows(long left) {
        long id = in.be32("a section id");
        int length = in.u8("a section's name length");
        if (sectionIds.contains(id) || length == 0 || left < 1 + length + 4 + 4) {
            return false;
        }
        for (byte c : in.bytes(length, "a section's name")) {
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    private static boolean knownCommand(int command) {
        return command >= 1 && command <= LAST_COMMAND;
    }

    /**
     * The device sections walked are the devices the description lists, one for one and in order: a footer taken
     * inside a device's state would show here as a device the description does not list at that place.
     */
    private void matchDescription(List<SnapshotDevice> described) {
        for (int i = 0; i < Math.min(described.size(), sectionDevices.size()); i++) {
            if (!described.get(i).equals(sectionDevices.get(i))) {
                throw new BadStream("device section " + i + " is " + device(sectionDevices.get(i)) + ", the VMDESCRIPTION "
                        + "lists " + device(described.get(i)));
            }
        }
        if (described.size() != sectionDevices.size()) {
            throw new BadStream("the stream has " + sectionDevices.size() + " device sections, its VMDESCRIPTION lists "
                    + described.size());
        }
    }

    private static String device(SnapshotDevice d) {
        return "'" + d.name() + "' (instance " + d.instance() + ", version " + d.version() + ")";
    }
}
