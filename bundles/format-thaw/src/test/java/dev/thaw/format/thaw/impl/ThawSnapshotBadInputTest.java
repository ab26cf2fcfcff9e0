package dev.thaw.format.thaw.impl;

import static dev.thaw.format.thaw.impl.Snapshots.assertProblem;
import static dev.thaw.format.thaw.impl.Snapshots.crc;
import static dev.thaw.format.thaw.impl.Snapshots.hex32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.thaw.api.snapshot.GuestMemory;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.format.thaw.impl.Snapshots.Entry;
import dev.thaw.format.thaw.impl.Snapshots.Memory;
import dev.thaw.format.thaw.impl.Snapshots.Parsed;
import dev.thaw.testing.ProcessResources;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of damaged or foreign file fails to open, or fails the read it damages, with one exact line. */
@Timeout(30)
class ThawSnapshotBadInputTest {

    @TempDir
    Path dir;

    final ThawSnapshotWriter writer = new ThawSnapshotWriter();
    final ThawSnapshotFormat format = new ThawSnapshotFormat();
    Arena arena;
    Memory memory;
    Path file;
    Parsed parsed;

    @BeforeEach
    void writeAGoodFile() throws IOException {
        arena = Arena.ofShared();
        memory = Snapshots.memory(arena, 21, Snapshots.twoRegions(2L << 20, 1L << 20));
        file = dir.resolve("good.thaw");
        writer.write(file, Snapshots.state(21, memory.layouts()), memory.regions(), Progress.NONE);
        parsed = Snapshots.parse(file);
        try (SnapshotReader reader = format.open(file)) {
            Snapshots.assertSameContent(reader, memory);
        }
    }

    @AfterEach
    void freeMemory() {
        arena.close();
    }

    private void assertOpenFails(String problem) {
        assertProblem(file, problem, () -> format.open(file).close());
    }

    /**
     * The file opens (its bitmaps are read when pages are first asked about), and every question about a
     * page of {@code region} fails with {@code problem}: whether it is present, and a read of it.
     */
    private void assertFirstUseOfRegionFails(int region, String problem) {
        try (SnapshotReader reader = format.open(file)) {
            assertProblem(file, problem, () -> reader.isPresent(region, 0));
            assertProblem(file, problem, () -> reader.isPresent(region, 1)); // not remembered as fine
            MemorySegment target = arena.allocate(4096);
            assertProblem(file, problem, () -> reader.readPages(region, 0, 1, target));
        }
    }

    private String truncatedTo(long length) throws IOException {
        Snapshots.truncate(file, length);
        return "truncated: " + length + " bytes, its header says " + parsed.fileLength();
    }

    // ---- truncation ----

    @Test
    void truncatedInsideTheHeader() throws IOException {
        Snapshots.truncate(file, 2000);
        assertOpenFails("truncated: 2000 bytes, shorter than its 4096-byte header");
        Snapshots.truncate(file, 12);
        assertOpenFails("truncated: 12 bytes, shorter than its header");
        Snapshots.truncate(file, 5);
        assertOpenFails("truncated: 5 bytes, shorter than its header");
    }

    @Test
    void truncatedInsideTheRegionTable() throws IOException {
        assertOpenFails(truncatedTo(parsed.regionTableOffset() + 100));
    }

    @Test
    void truncatedInsideTheState() throws IOException {
        assertOpenFails(truncatedTo(parsed.stateOffset() + parsed.stateLength() / 2));
    }

    @Test
    void truncatedInsideABitmap() throws IOException {
        assertOpenFails(truncatedTo(parsed.entries().get(1).bitmapOffset() + 3));
    }

    @Test
    void truncatedInsideAChecksumTable() throws IOException {
        assertOpenFails(truncatedTo(parsed.entries().get(0).checksumsOffset() + 1000));
    }

    @Test
    void truncatedInsideThePageAreaOrByOneByte() throws IOException {
        Entry high = parsed.entries().get(1);
        assertOpenFails(truncatedTo(high.pagesOffset() + high.size() - 1));
        assertOpenFails(truncatedTo(high.pagesOffset() + 5000));
    }

    @Test
    void longerThanTheHeaderSays() throws IOException {
        try (var out = Files.newOutputStream(file, java.nio.file.StandardOpenOption.APPEND)) {
            out.write(0);
        }
        assertOpenFails((parsed.fileLength() + 1) + " bytes, longer than the " + parsed.fileLength() + " its header says");
    }

    // ---- flipped bytes: each section's checksum ----

    private String mismatch(String what, long offset, int length, long crcAt) throws IOException {
        ByteBuffer section = Snapshots.read(file, offset, length);
        int stored = Snapshots.read(file, crcAt, 4).getInt(0);
        return what + " checksum mismatch (stored " + hex32(stored) + ", computed " + hex32(crc(section, 0, length)) + ")";
    }

    @Test
    void flippedByteInTheHeader() throws IOException {
        Snapshots.flip(file, 100); // a reserved byte
        assertOpenFails(mismatch("header", 0, Layout.H_CRC, Layout.H_CRC));
        Snapshots.flip(file, 100);
        Snapshots.flip(file, Layout.H_VERSION); // not "version 254 is newer": the checksum comes first
        assertOpenFails(mismatch("header", 0, Layout.H_CRC, Layout.H_CRC));
    }

    @Test
    void flippedByteInTheRegionTable() throws IOException {
        Snapshots.flip(file, parsed.regionTableOffset() + Layout.REGION_ENTRY_SIZE + Layout.R_SIZE + 2);
        assertOpenFails(mismatch("region table", parsed.regionTableOffset(), 2 * Layout.REGION_ENTRY_SIZE, Layout.H_REGION_TABLE_CRC));
    }

    @Test
    void flippedByteInTheStateJson() throws IOException {
        Snapshots.flip(file, parsed.stateOffset() + 40);
        assertOpenFails(mismatch("state", parsed.stateOffset(), (int) parsed.stateLength(), Layout.H_STATE_CRC));
    }

    @Test
    void flippedByteInABitmap() throws IOException {
        Entry high = parsed.entries().get(1);
        Snapshots.flip(file, high.bitmapOffset() + 5);
        assertFirstUseOfRegionFails(1, mismatch("region 1 (ram-high) bitmap", high.bitmapOffset(), (int) Layout.bitmapLength(high.pages()),
                parsed.regionTableOffset() + Layout.REGION_ENTRY_SIZE + Layout.R_BITMAP_CRC));
    }

    @Test
    void flippedByteInAChecksumTableFailsThePageItCoversNamingTheTable() throws IOException {
        Entry low = parsed.entries().get(0);
        try (SnapshotReader reader = format.open(file)) {
            long page = 77;
            while (!reader.isPresent(0, page)) {
                page++;
            }
            // Open reads no checksums (they are read with their pages), so the flip after open counts.
            Snapshots.flip(file, low.checksumsOffset() + 4 * page + 1);
            MemorySegment target = arena.allocate(low.size());
            reader.readPages(0, 0, page, target); // the pages before it are fine
            String problem = mismatch("region 0 (ram-low) checksum table", low.checksumsOffset(), (int) low.pages() * 4,
                    parsed.regionTableOffset() + Layout.R_CHECKSUMS_CRC);
            assertProblem(file, problem, () -> reader.readPages(0, 0, low.pages(), target));
        }
    }

    @Test
    void flippedByteInAPresentPageFailsThatPageOnlyWhenItIsRead() throws IOException {
        Entry low = parsed.entries().get(0);
        try (SnapshotReader reader = format.open(file)) {
            long page = 100;
            while (!reader.isPresent(0, page)) {
                page++;
            }
            Snapshots.flip(file, low.pagesOffset() + page * 4096 + 1234);
            ByteBuffer damaged = Snapshots.read(file, low.pagesOffset() + page * 4096, 4096);
            int stored = Snapshots.read(file, low.checksumsOffset() + page * 4, 4).getInt(0);
            MemorySegment target = arena.allocate(low.size());
            reader.readPages(0, 0, page, target); // the pages before it are fine
            reader.readPages(0, page + 1, low.pages() - page - 1, target);
            long bad = page;
            assertProblem(file, "page " + page + " of region ram-low (guest address 0x" + Long.toHexString(page * 4096)
                    + ") fails its checksum (stored " + hex32(stored) + ", computed " + hex32(crc(damaged, 0, 4096)) + ")",
                    () -> reader.readPages(0, 0, low.pages(), target));
            assertThrows(SnapshotException.class, () -> reader.readPages(0, bad, 1, target));
        }
        // Opening does not read pages: a damaged page is found when it is read.
        try (SnapshotReader reader = format.open(file)) {
            assertEquals(2, reader.regions().size());
        }
    }

    @Test
    void flippedByteInAHoleIsNeverRead() throws IOException {
        Entry low = parsed.entries().get(0);
        try (SnapshotReader reader = format.open(file)) {
            long page = 0;
            while (reader.isPresent(0, page)) {
                page++;
            }
            Snapshots.flip(file, low.pagesOffset() + page * 4096 + 17);
            Snapshots.assertSameContent(reader, memory);
        }
    }

    // ---- foreign and future files ----

    @Test
    void wrongMagic() throws IOException {
        Snapshots.write(file, 0, ByteBuffer.wrap(new byte[] {'Q', 'E', 'V', 'M', 0, 0, 0, 3}));
        assertOpenFails("not a Thaw snapshot (it starts with 51 45 56 4d 00 00 00 03, not THAWSNAP)");
    }

    @Test
    void futureVersion() throws IOException {
        Snapshots.patchHeader(file, h -> h.putInt(Layout.H_VERSION, 2));
        assertOpenFails("version 2 is newer than this Thaw reads (1)");
    }

    @Test
    void unknownFlags() throws IOException {
        Snapshots.patchHeader(file, h -> h.putInt(Layout.H_FLAGS, 4));
        assertOpenFails("unknown flags 0x4");
    }

    // ---- consistent checksums, inconsistent content ----

    @Test
    void stateWhoseMemoryDoesNotMatchTheRegions() throws IOException {
        Snapshots.patchState(file, json -> json.replace("\"memoryBytes\":3145728", "\"memoryBytes\":3149824"));
        assertOpenFails("the state's boot memory is 3149824 bytes, its regions add up to 3145728");
    }

    @Test
    void stateWhoseRegionsDifferFromTheRegionTable() throws IOException {
        Snapshots.patchState(file, json -> json.replace("{\"name\":\"ram-high\",\"guestAddress\":4294967296",
                "{\"name\":\"ram-high\",\"guestAddress\":4294971392"));
        assertOpenFails("the state's memory region 1 is ram-high at 0x100001000 (1 MiB), the region table's ram-high at "
                + "0x100000000 (1 MiB)");
    }

    @Test
    void stateJsonThatIsNotAMachineState() throws IOException {
        Snapshots.patchState(file, json -> json.replace("\"vcpus\":2,", ""));
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(file));
        assertTrue(e.getMessage().startsWith(file + ": state JSON does not parse: at boot.vcpus: Missing creator property 'vcpus'"),
                e.getMessage());
        Snapshots.assertOneLine(file, e);

        Snapshots.patchState(file, json -> json.replace("\"workload\":", "\"vcpus\":2,\"gpus\":1,\"workload\":"));
        e = assertThrows(SnapshotException.class, () -> format.open(file));
        assertTrue(e.getMessage().startsWith(file + ": state JSON does not parse: at boot.gpus: Unrecognized field \"gpus\""),
                e.getMessage());
        Snapshots.assertOneLine(file, e);

        Snapshots.patchState(file, json -> "{\"guest\": [1, 2");
        e = assertThrows(SnapshotException.class, () -> format.open(file));
        assertTrue(e.getMessage().startsWith(file + ": state JSON does not parse: "), e.getMessage());
        Snapshots.assertOneLine(file, e);
    }

    @Test
    void sectionOutsideTheFile() throws IOException {
        Snapshots.patchEntry(file, 1, e -> e.putLong(Layout.R_BITMAP_OFFSET, parsed.fileLength()));
        assertOpenFails("region 1 (ram-high) bitmap [" + parsed.fileLength() + ", " + (parsed.fileLength() + 32)
                + ") lies outside the file's content [4096, " + parsed.fileLength() + ")");
        Snapshots.patchEntry(file, 1, e -> e.putLong(Layout.R_BITMAP_OFFSET, -4096));
        assertOpenFails("region 1 (ram-high) bitmap [18446744073709547520, 18446744073709547552) lies outside the file's "
                + "content [4096, " + parsed.fileLength() + ")");
    }

    @Test
    void sectionsThatOverlap() throws IOException {
        long state = parsed.stateOffset();
        Snapshots.patchEntry(file, 0, e -> e.putLong(Layout.R_CHECKSUMS_OFFSET, state + 4096));
        assertOpenFails("sections overlap: state [" + state + ", " + (state + parsed.stateLength()) + ") and region 0 (ram-low) "
                + "checksum table [" + (state + 4096) + ", " + (state + 4096 + 512 * 4) + ")");
    }

    @Test
    void bitmapThatDisagreesWithTheRegionTable() throws IOException {
        long present = parsed.entries().get(0).presentPages();
        Snapshots.patchEntry(file, 0, e -> e.putLong(Layout.R_PRESENT_PAGES, present + 1));
        assertFirstUseOfRegionFails(0, "region 0 (ram-low) bitmap marks " + present + " pages present, the region table says "
                + (present + 1));
    }

    @Test
    void regionEntriesOutOfRange() throws IOException {
        Snapshots.patchEntry(file, 0, e -> e.putLong(Layout.R_PAGES_OFFSET, (1L << 20) + 4096));
        assertOpenFails("region 0 (ram-low): page area offset 1052672 is not a multiple of 1 MiB");
        Snapshots.patchEntry(file, 0, e -> e.putLong(Layout.R_PAGES_OFFSET, 1L << 20).putLong(Layout.R_SIZE, 1000));
        assertOpenFails("region 0: region ram-low has size 1000, not a positive multiple of 4096");
        Snapshots.patchEntry(file, 0, e -> e.putLong(Layout.R_SIZE, 2L << 20).putInt(Layout.R_NAME_LENGTH, 65));
        assertOpenFails("region 0: name length 65 is out of range (1 to 64)");
        Snapshots.patchEntry(file, 0, e -> e.putInt(Layout.R_NAME_LENGTH, 7).put(Layout.R_NAME, (byte) 0xff));
        assertOpenFails("region 0: its name is not UTF-8");
        Snapshots.patchHeader(file, h -> h.putInt(Layout.H_REGION_COUNT, 100_000));
        assertOpenFails("region count 100000 is out of range (1 to 1024)");
    }

    /** Found by ThawSnapshotFuzzTest: a name with a line break in it made every refusal that names the region two lines. */
    @Test
    void regionNameWithAControlCharacter() throws IOException {
        Snapshots.patchEntry(file, 0, e -> e.put(Layout.R_NAME + 3, (byte) '\r'));
        assertOpenFails("region 0: region name 'ram\\u000dlow' is not 1 to 64 bytes of UTF-8 without control characters");
        Snapshots.patchEntry(file, 0, e -> e.put(Layout.R_NAME + 3, (byte) 0xc2).put(Layout.R_NAME + 4, (byte) 0x85)); // NEL
        assertOpenFails("region 0: region name 'ram\\u0085ow' is not 1 to 64 bytes of UTF-8 without control characters");
    }

    // ---- not snapshot files at all ----

    @Test
    void aDirectory() {
        assertProblem(dir, "is a directory, not a snapshot file", () -> format.open(dir));
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aFifo() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        assertProblem(fifo, "is a FIFO, not a snapshot file", () -> format.open(fifo));
    }

    @Test
    void aDevice() {
        Path device = Path.of("/dev/zero");
        assertProblem(device, "is a device, not a snapshot file", () -> format.open(device));
    }

    /**
     * A read interrupted closes the channel for every thread, and the reader opens the path again; if the
     * path names a FIFO by then, opening it would block that read and every other behind the reader's lock.
     */
    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aPathReplacedByAFifoIsNotOpenedAgainAfterAnInterrupt() throws Exception {
        MemorySegment page = arena.allocate(4096);
        try (SnapshotReader reader = format.open(file)) {
            long present = 0;
            while (!reader.isPresent(0, present)) {
                present++;
            }
            long first = present;
            Files.move(file, dir.resolve("moved.thaw"));
            assertEquals(0, new ProcessBuilder("mkfifo", file.toString()).inheritIO().start().waitFor());
            Thread.currentThread().interrupt();
            try {
                assertProblem(file, "cannot reopen after an interrupt: the path is a FIFO now",
                        () -> reader.readPages(0, first, 1, page));
            } finally {
                Thread.interrupted();
            }
            assertProblem(file, "cannot reopen after an interrupt: the path is a FIFO now",
                    () -> reader.readPages(0, first, 1, page));
        }
    }

    @Test
    void aMissingFile() {
        Path missing = dir.resolve("missing.thaw");
        assertProblem(missing, "cannot open: no such file or directory", () -> format.open(missing));
    }

    @Test
    void anEmptyFile() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.thaw"));
        assertProblem(empty, "empty file, not a Thaw snapshot", () -> format.open(empty));
    }

    /**
     * A file the process may not read. Root reads any file whatever its mode, so as root this uses a
     * write-only sysfs attribute, which refuses read opens even to root.
     */
    @Test
    void anUnreadableFile() throws IOException {
        Path unreadable;
        if ("root".equals(System.getProperty("user.name"))) {
            unreadable = Path.of("/sys/bus/pci/rescan");
            assumeTrue(Files.isRegularFile(unreadable), "running as root and " + unreadable
                    + " (a write-only file that even root cannot open for reading) is absent: no unreadable file to try");
        } else {
            unreadable = Files.copy(file, dir.resolve("unreadable.thaw"));
            Files.setPosixFilePermissions(unreadable, PosixFilePermissions.fromString("---------"));
        }
        Path path = unreadable;
        assertProblem(path, "cannot open: permission denied", () -> format.open(path));
    }

    // ---- the writer refuses what it cannot write faithfully ----

    @Test
    void writerRefusesMemoryThatDoesNotMatchTheState() {
        MachineState state = Snapshots.state(21, memory.layouts());
        Path out = dir.resolve("out.thaw");
        BootRequest b = state.boot();
        MachineState bigger = new MachineState(state.guest(), new BootRequest(b.name(), b.memoryBytes() + 4096, b.vcpus(),
                b.workload(), b.seed(), b.workingSetBytes(), b.touchOrder(), b.strideBytes()), state.memory(), state.vm(),
                state.vcpus(), state.devices(), state.session());
        assertProblem(out, "the regions add up to 3145728 bytes, the boot request says 3149824",
                () -> writer.write(out, bigger, memory.regions(), Progress.NONE));
        assertProblem(out, "the state lists 2 memory regions, 1 were given",
                () -> writer.write(out, state, memory.regions().subList(0, 1), Progress.NONE));
        GuestMemory low = memory.regions().getFirst();
        List<GuestMemory> moved = List.of(new GuestMemory(new RegionLayout("ram-low", 4096, low.layout().size()), low.memory()),
                memory.regions().get(1));
        assertProblem(out, "memory region 0 is ram-low at 0x1000 (2 MiB), the state's is ram-low at 0x0 (2 MiB)",
                () -> writer.write(out, state, moved, Progress.NONE));
        List<GuestMemory> shorter = List.of(new GuestMemory(low.layout(), low.memory().asSlice(0, 4096)), memory.regions().get(1));
        assertProblem(out, "region ram-low is 2097152 bytes, its memory 4096",
                () -> writer.write(out, state, shorter, Progress.NONE));
        List<RegionLayout> overlapping = List.of(new RegionLayout("a", 0, 2L << 20), new RegionLayout("b", 1L << 20, 1L << 20));
        MachineState overlappingState = Snapshots.state(21, overlapping);
        List<GuestMemory> overlappingMemory = List.of(new GuestMemory(overlapping.get(0), low.memory()),
                new GuestMemory(overlapping.get(1), memory.regions().get(1).memory()));
        assertProblem(out, "cannot write: regions a at 0x0 (2 MiB) and b at 0x100000 (1 MiB) overlap",
                () -> writer.write(out, overlappingState, overlappingMemory, Progress.NONE));
        assertTrue(Files.notExists(out));
    }

    @Test
    void writerIntoAMissingFolder() {
        Path out = dir.resolve("no-such-folder").resolve("vm.thaw");
        assertProblem(out, "cannot create a temporary file beside it: no such file or directory",
                () -> writer.write(out, Snapshots.state(21, memory.layouts()), memory.regions(), Progress.NONE));
    }

    // ---- file descriptors ----

    @Test
    void noFileDescriptorLeaks() throws IOException {
        Path damaged = Files.copy(file, dir.resolve("damaged.thaw"));
        Snapshots.flip(damaged, parsed.stateOffset() + 10);
        Path truncated = Files.copy(file, dir.resolve("truncated.thaw"));
        Snapshots.truncate(truncated, 3000);
        Path empty = Files.createFile(dir.resolve("empty.thaw"));
        MemorySegment page = arena.allocate(4096);
        for (int warm = 0; warm < 3; warm++) { // let class loading open what it opens
            format.open(file).close();
            assertThrows(SnapshotException.class, () -> format.open(damaged));
        }
        long before = ProcessResources.fds().size();
        for (int i = 0; i < 50; i++) {
            try (SnapshotReader reader = format.open(file)) {
                reader.readPages(0, 0, 1, page);
            }
            for (Path bad : List.of(damaged, truncated, empty, dir, dir.resolve("missing"))) {
                assertThrows(SnapshotException.class, () -> format.open(bad));
            }
        }
        Path outFolder = Files.createDirectory(dir.resolve("out"));
        Path out = outFolder.resolve("failed.thaw");
        assertThrows(SnapshotException.class, () -> writer.write(out, Snapshots.state(21, memory.layouts()), memory.regions(),
                (done, total) -> {
                    if (done > 0) {
                        throw new IllegalStateException("stop");
                    }
                }));
        assertEquals(before, ProcessResources.fds().size(), "open file descriptors");
        try (var left = Files.list(outFolder)) {
            assertEquals(List.of(), left.toList());
        }
    }
}
