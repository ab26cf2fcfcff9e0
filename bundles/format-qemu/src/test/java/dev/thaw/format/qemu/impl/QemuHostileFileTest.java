package dev.thaw.format.qemu.impl;

import dev.thaw.format.qemu.MigrationStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.testing.ProcessResources;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files made to cost the reader more than they hold: claims of huge blocks in sparse files, page sizes the
 * engine cannot serve, offsets moved within the file, descriptions built to blow up a JSON tree, and paths
 * that are no regular file. Each is refused with one line naming the file (or, where the file is sound but
 * sparse, read without allocating what it claims), and nothing is left open.
 *
 * <p>Allocation is measured as the bytes the opening thread allocates on the heap
 * ({@code ThreadMXBean.getCurrentThreadAllocatedBytes}), not the process's RSS: the bound is on what the
 * reader asks for, which does not depend on the collector or on other tests.
 */
class QemuHostileFileTest {

    /** More than opening a sound sample allocates (a window, a JSON parser's buffers), far less than any claim. */
    static final long ALLOCATION_BOUND = 16L << 20;

    private static final long MIB = 1L << 20;
    private static final long TIB = 1L << 40;

    @TempDir
    Path dir;

    private final QemuMappedRamFormat format = new QemuMappedRamFormat();
    private Path good;

    @BeforeEach
    void writeSample() throws Exception {
        good = Samples.write("qemu-microvm.mr", dir);
        format.open(good).close(); // class loading and Jackson's start-up are not what is measured
    }

    // ---- not a regular file (issue 12, item 8) ----

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aFifoIsRefusedWithoutOpeningIt() throws Exception {
        Path fifo = dir.resolve("snapshot.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        assertEquals(fifo + ": is a FIFO, not a snapshot file", refused(fifo));
        assertEquals(fifo + ": is a FIFO, not a snapshot file",
                assertThrows(SnapshotException.class, () -> format.open(fifo, 4096)).getMessage());
    }

    @Test
    void aDirectoryOrADeviceIsRefused() {
        assertEquals(dir + ": is a directory, not a snapshot file", refused(dir));
        Path device = Path.of("/dev/zero");
        assertEquals(device + ": is a device, not a snapshot file", refused(device));
    }

    // ---- page sizes (item 5) ----

    @Test
    void pagesOfAnySizeBut4096AreRefused() throws Exception {
        Path small = lastBlock("small-pages", 16 * MIB, 512, -1);
        assertTrue(problem(small).endsWith("has 512-byte pages; x86 QEMU writes 4096-byte pages, the only size Thaw serves"),
                problem(small));
        Path huge = lastBlock("huge-pages", 1L << 30, 1L << 30, -1); // --sha256 would allocate a whole page at once
        assertTrue(problem(huge).endsWith("has 1073741824-byte pages; x86 QEMU writes 4096-byte pages, the only size Thaw "
                + "serves"), problem(huge));
    }

    // ---- what a sparse file claims (item 5) ----

    @Test
    void aSparseFileClaimingTerabytesOpensWithoutAllocatingWhatItClaims() throws Exception {
        Path sparse = lastBlock("four-tib", 4 * TIB, 4096, -1); // 128 MiB of bitmap, all of it a hole
        long allocated = allocatedBy(() -> {
            try (SnapshotReader r = format.open(sparse)) {
                SnapshotRegion last = r.regions().getLast();
                assertEquals(4 * TIB, last.size());
                assertEquals(0, last.presentPages());
                assertFalse(r.isPresent(r.regions().size() - 1, last.pages() - 1));
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment page = arena.allocate(4096);
                    page.fill((byte) 1);
                    r.readPages(r.regions().size() - 1, last.pages() - 1, 1, page);
                    assertEquals(-1, page.mismatch(arena.allocate(4096)), "an absent page reads as zeros");
                }
            }
            return null;
        });
        assertTrue(allocated < ALLOCATION_BOUND, "opening a file whose bitmap is a 128 MiB hole allocated " + allocated
                + " bytes");
    }

    @Test
    void aBlockLargerThanTheFileIsRefusedBeforeAnythingIsAllocatedForIt() throws Exception {
        Path claims = lastBlock("claims", 4 * TIB, 4096, -1);
        try (RandomAccessFile f = new RandomAccessFile(claims.toFile(), "rw")) {
            f.setLength(256 * MIB); // its 128 MiB bitmap still fits, its pages (from 0x9500000 on) do not
        }
        long allocated = allocatedBy(() -> problem(claims));
        assertTrue(problem(claims).contains("its pages (4398046511104 bytes at byte "), problem(claims));
        assertTrue(allocated < ALLOCATION_BOUND, "refusing a 4 TiB block in a 256 MiB file allocated " + allocated + " bytes");
    }

    // ---- where the bitmap and the pages are (item 5) ----

    @Test
    void theBitmapMustStartRightAfterItsBlockHeader() throws Exception {
        Path moved = copy("bitmap-moved");
        try (FileChannel ch = FileChannel.open(moved, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1}), 0x82); // microvm.ram's bitmap offset 0x8c becomes 0x18c
        }
        assertEquals("RAM block microvm.ram (at byte 92): its bitmap is at byte 396, not right after its header at byte 140",
                problem(moved));
    }

    @Test
    void thePagesMustStartOnAMebibyteBoundary() throws Exception {
        Path unaligned = lastBlock("unaligned", 4096, 4096, 0x1500000 + 4096);
        assertTrue(problem(unaligned).endsWith("its pages start at byte 22024192, not at a multiple of 1 MiB as QEMU "
                + "places them"), problem(unaligned));
    }

    // ---- device sections (item 5: never a hang) ----

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void deviceSectionsAcrossHolesAreScannedForTheirFootersOnlyUpToABudget() throws Exception {
        Path fine = deviceSections("few-sections", 4, MIB);
        try (SnapshotReader r = format.open(fine)) {
            assertEquals(4, r.origin().devices().size());
            assertEquals("dev", r.origin().devices().getLast().name());
        }
        Path file = deviceSections("long-sections", 64, 32 * MIB); // 2 GiB of holes to scan, a few KB on disk
        assertTrue(problem(file).matches("device section 'dev' at byte \\d+ has no footer \\(the file ends, or is damaged\\) "
                + "within the 67108864 bytes all device sections may have"), problem(file));
    }

    // ---- the VMDESCRIPTION JSON (item 5) ----

    @Test
    void aDescriptionOfEmptyObjectsIsRefusedAtItsFirstByte() throws Exception {
        StringBuilder json = new StringBuilder((int) (16 * MIB)).append('[');
        while (json.length() < 16 * MIB - 4) {
            json.append("{},");
        }
        json.append("{}]");
        Path file = describedBy("empty-objects", json.toString());
        long allocated = allocatedBy(() -> problem(file));
        assertTrue(problem(file).startsWith("the VMDESCRIPTION JSON at byte "), problem(file));
        assertTrue(problem(file).endsWith(" has no devices list"), problem(file));
        assertTrue(allocated < ALLOCATION_BOUND, "refusing 16 MiB of [{},{},...] allocated " + allocated + " bytes");
    }

    @Test
    void aDescriptionIsCheckedDeviceByDeviceWhileItIsRead() throws Exception {
        StringBuilder json = new StringBuilder("{\"page_size\": 4096, \"devices\": [");
        json.append("{\"name\": \"timer\", \"instance_id\": 0, \"version\": 2, \"fields\": [{\"name\": \"x\"}]}, {}");
        while (json.length() < 8 * MIB) {
            json.append(", {\"name\": \"timer\", \"instance_id\": 0, \"version\": 2}");
        }
        Path file = describedBy("bad-device", json.append("]}").toString());
        long allocated = allocatedBy(() -> problem(file));
        assertTrue(problem(file).matches("the VMDESCRIPTION JSON lists a device without a name, instance_id and version: "
                + "device 1, at byte \\d+"), problem(file));
        assertTrue(allocated < ALLOCATION_BOUND, "refusing at device 1 of 150,000 allocated " + allocated + " bytes");
    }

    @Test
    void aDescriptionListingMoreDevicesThanAMachineHasIsRefused() throws Exception {
        StringBuilder json = new StringBuilder("{\"devices\": [");
        for (int i = 0; i < 200_000; i++) {
            json.append(i == 0 ? "" : ", ").append("{\"name\": \"d\", \"instance_id\": ").append(i).append(", \"version\": 1}");
        }
        Path file = describedBy("many-devices", json.append("]}").toString());
        long allocated = allocatedBy(() -> problem(file));
        assertTrue(problem(file).startsWith("the VMDESCRIPTION JSON lists more than "), problem(file));
        assertTrue(allocated < ALLOCATION_BOUND, "refusing 200,000 devices allocated " + allocated + " bytes");
    }

    @Test
    void aDeeplyNestedOrLongValuedDescriptionIsRefused() throws Exception {
        Path deep = describedBy("deep", "{\"devices\": [], \"x\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}");
        assertTrue(problem(deep).matches("the VMDESCRIPTION JSON at byte \\d+ is beyond this reader's limits: .*depth.*"),
                problem(deep));
        Path longString = describedBy("long", "{\"devices\": [{\"name\": \"" + "n".repeat(4 << 20)
                + "\", \"instance_id\": 0, \"version\": 1}]}");
        long allocated = allocatedBy(() -> problem(longString));
        assertTrue(problem(longString).matches("the VMDESCRIPTION JSON at byte \\d+ is beyond this reader's limits: .*"),
                problem(longString));
        assertTrue(allocated < ALLOCATION_BOUND, "refusing a 4 MiB name allocated " + allocated + " bytes");
    }

    // ---- nothing left open ----

    /**
     * Each kind of damaged or foreign file refused 50 times, and the sound sample opened and closed as
     * often, leave no file descriptor, mapping or thread behind (issue 12).
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void noRefusalLeavesAFileMappingOrThread() throws Throwable {
        Path fifo = dir.resolve("snapshot.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        List<Path> hostile = new ArrayList<>(List.of(dir, fifo, Path.of("/dev/zero"), dir.resolve("missing"),
                Files.createFile(dir.resolve("empty"))));
        hostile.addAll(List.of(lastBlock("small-pages", 16 * MIB, 512, -1), lastBlock("unaligned", 4096, 4096, 0x1500000 + 4096),
                describedBy("not-an-object", "[{}]"), describedBy("no-name", "{\"devices\": [{}]}")));
        hostile.add(patched("bitmap-moved", 0x82, 1));
        hostile.add(patched("bad-magic", 0, 'X'));
        hostile.add(patched("version-2", 7, 2));
        for (long length : new long[] {13, 0x60, 0x100010, Files.size(good) - 100}) {
            Path truncated = copy("truncated-" + length);
            try (FileChannel ch = FileChannel.open(truncated, StandardOpenOption.WRITE)) {
                ch.truncate(length);
            }
            hostile.add(truncated);
        }
        for (Path file : hostile) {
            refused(file); // once first: whatever class loading opens stays open
            ProcessResources.assertNothingLeftBy(dir, 50, () -> refused(file));
        }
        ProcessResources.assertNothingLeftBy(dir, 50, () -> format.open(good).close());
    }

    private Path patched(String name, long at, int value) throws IOException {
        Path file = copy(name);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) value}), at);
        }
        return file;
    }

    // ---- making hostile files ----

    /**
     * The microvm sample with its last RAM block (a one-page ROM) replaced by a block of {@code used} bytes of
     * {@code pageSize}-byte pages, none present: the bitmap right after the block header, the pages at
     * {@code pagesOffset} (-1: the next MiB boundary after the bitmap, as QEMU places them), and the rest of
     * the stream moved after them. The file is sparse: the bitmap and the pages are a hole.
     */
    private Path lastBlock(String name, long used, long pageSize, long pagesOffset) throws IOException {
        RamBlock last;
        try (FileChannel ch = FileChannel.open(good)) {
            last = StreamParser.parse(new Cursor(ch, ch.size(), 0)).blocks().getLast();
        }
        long header = last.bitmapOffset() - 28; // be32 version, be64 page size, be64 bitmap offset, be64 pages offset
        long oldEnd = last.pagesOffset() + last.usedLength();
        byte[] tail;
        try (FileChannel ch = FileChannel.open(good)) {
            tail = new byte[(int) (ch.size() - oldEnd)];
            ch.read(ByteBuffer.wrap(tail), oldEnd);
        }
        long bitmapBytes = (used / pageSize + 63) / 64 * 8;
        long pages = pagesOffset >= 0 ? pagesOffset : (last.bitmapOffset() + bitmapBytes + MIB - 1) & -MIB;
        Path file = copy(name);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(last.bitmapOffset()); // drops the old bitmap, page and tail: what follows is a hole
            f.setLength(pages + used + tail.length);
            f.seek(header - 8);
            f.writeLong(used);
            f.seek(header + 4);
            f.writeLong(pageSize);
            f.seek(header + 20);
            f.writeLong(pages);
            f.seek(pages + used);
            f.write(tail);
            f.seek(0x54); // the ram section's total: flags in the low bits
            long word = f.readLong();
            assertEquals(MigrationStream.RAM_MEM_SIZE, word & MigrationStream.RAM_FLAG_MASK);
            f.seek(0x54);
            f.writeLong(word - last.usedLength() + used);
        }
        return file;
    }

    /**
     * The microvm sample with its device sections replaced by {@code count} sections of {@code size} bytes each,
     * holes framed by a section header and a footer, and no VMDESCRIPTION.
     */
    private Path deviceSections(String name, int count, long size) throws IOException {
        byte[] all = Files.readAllBytes(good);
        int first = QemuBadInputTest.indexOf(all, "\u0005timer") - 5; // 0x04, be32 id, then the idstr
        assertEquals(MigrationStream.SECTION_FULL, all[first]);
        Path file = copy(name);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(first);
            long at = first;
            for (int k = 0; k < count; k++) {
                int id = 100 + k;
                f.seek(at);
                f.writeByte(MigrationStream.SECTION_FULL);
                f.writeInt(id);
                f.writeByte(3);
                f.writeBytes("dev");
                f.writeInt(k);
                f.writeInt(1);
                f.seek(f.getFilePointer() + size);
                f.writeByte(MigrationStream.FOOTER);
                f.writeInt(id);
                at = f.getFilePointer();
            }
            f.writeByte(MigrationStream.SECTION_EOF);
        }
        return file;
    }

    /** The microvm sample with {@code json} as its VMDESCRIPTION. */
    private Path describedBy(String name, String json) throws IOException {
        byte[] all = Files.readAllBytes(good);
        int at = QemuBadInputTest.indexOf(all, "{\"configuration\": {\"vmsd_name\"");
        assertTrue(at > 5);
        byte[] bytes = json.getBytes(StandardCharsets.US_ASCII);
        Path file = copy(name);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(at);
            ch.write(ByteBuffer.allocate(4).putInt(0, bytes.length), at - 4);
            ch.write(ByteBuffer.wrap(bytes), at);
        }
        return file;
    }

    private Path copy(String name) throws IOException {
        Path file = dir.resolve(name);
        Files.deleteIfExists(file);
        return Files.copy(good, file);
    }

    private String refused(Path file) {
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(file).close(), file.toString());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    /** The problem part of the one-line message, after "FILE: ". */
    private String problem(Path file) {
        return refused(file).substring(file.toString().length() + 2);
    }

    /** Heap bytes the calling thread allocates while {@code action} runs. */
    private static long allocatedBy(Supplier<?> action) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        action.get();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }
}
