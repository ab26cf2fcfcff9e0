package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
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
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every refusal, at open or at a region's first use, leaves nothing behind: each kind of damaged or
 * foreign file is refused 50 times and the process holds as many file descriptors, mappings and
 * threads afterwards as before (issue 12: "every refusal path leaves no fd, thread or mapping").
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a FIFO opened by mistake would block
class ThawSnapshotRefusalLeakTest {

    private static final int TIMES = 50;

    @TempDir
    Path dir;

    final ThawSnapshotFormat format = new ThawSnapshotFormat();
    Arena arena;
    Path good;
    Parsed parsed;
    /** Refused at open, by name: the kinds ThawSnapshotBadInputTest checks the messages of. */
    final Map<String, Path> refusedAtOpen = new LinkedHashMap<>();
    /** Opened, then refused at the first question about region 1. */
    final Map<String, Path> refusedAtFirstUse = new LinkedHashMap<>();

    @BeforeEach
    void writeGoodAndBadFiles() throws Exception {
        arena = Arena.ofShared();
        Memory memory = Snapshots.memory(arena, 41, Snapshots.twoRegions(2L << 20, 1L << 20));
        good = dir.resolve("good.thaw");
        new ThawSnapshotWriter().write(good, Snapshots.state(41, memory.layouts()), memory.regions(), Progress.NONE);
        parsed = Snapshots.parse(good);
        Entry high = parsed.entries().get(1);

        refusedAtOpen.put("empty", Files.createFile(dir.resolve("empty.thaw")));
        refusedAtOpen.put("truncated in the header", truncated("header", 2000));
        refusedAtOpen.put("truncated in the page area", truncated("pages", high.pagesOffset() + 5000));
        refusedAtOpen.put("longer than its header says", appended());
        refusedAtOpen.put("bad magic", changed("magic", f -> Snapshots.write(f, 0, ByteBuffer.wrap("QEVM\0\0\0\3".getBytes()))));
        refusedAtOpen.put("header CRC", changed("header-crc", f -> Snapshots.flip(f, 100)));
        refusedAtOpen.put("region table CRC", changed("table-crc", f -> Snapshots.flip(f, parsed.regionTableOffset() + 90)));
        refusedAtOpen.put("state CRC", changed("state-crc", f -> Snapshots.flip(f, parsed.stateOffset() + 40)));
        refusedAtOpen.put("newer version", changed("version", f -> Snapshots.patchHeader(f, h -> h.putInt(Layout.H_VERSION, 2))));
        refusedAtOpen.put("region size not whole pages",
                changed("size", f -> Snapshots.patchEntry(f, 0, e -> e.putLong(Layout.R_SIZE, 1000))));
        refusedAtOpen.put("section outside the file",
                changed("outside", f -> Snapshots.patchEntry(f, 1, e -> e.putLong(Layout.R_BITMAP_OFFSET, parsed.fileLength()))));
        refusedAtOpen.put("state JSON that does not parse", changed("json", f -> Snapshots.patchState(f, json -> "{\"guest\": [1, 2")));
        refusedAtOpen.put("state memory unlike the regions", changed("memory", f -> Snapshots.patchState(f,
                json -> json.replace("\"memoryBytes\":3145728", "\"memoryBytes\":3149824"))));
        refusedAtOpen.put("directory", dir);
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        refusedAtOpen.put("FIFO", fifo);
        refusedAtOpen.put("device", Path.of("/dev/zero"));
        refusedAtOpen.put("missing", dir.resolve("missing.thaw"));

        refusedAtFirstUse.put("bitmap CRC", changed("bitmap-crc", f -> Snapshots.flip(f, high.bitmapOffset() + 5)));
        refusedAtFirstUse.put("bitmap unlike the region table", changed("present",
                f -> Snapshots.patchEntry(f, 1, e -> e.putLong(Layout.R_PRESENT_PAGES, high.presentPages() + 1))));
    }

    @AfterEach
    void freeMemory() {
        arena.close();
    }

    @Test
    void noRefusalAtOpenLeavesAFileDescriptorMappingOrThread() throws Throwable {
        for (Map.Entry<String, Path> bad : refusedAtOpen.entrySet()) {
            refuse(bad.getKey(), bad.getValue()); // once first: class loading opens what it opens
            ProcessResources.assertNothingLeftBy(dir, TIMES, () -> refuse(bad.getKey(), bad.getValue()));
        }
    }

    @Test
    void noRefusalAtFirstUseLeavesAFileDescriptorMappingOrThread() throws Throwable {
        MemorySegment page = arena.allocate(4096);
        for (Map.Entry<String, Path> bad : refusedAtFirstUse.entrySet()) {
            Path file = bad.getValue();
            refuseFirstUse(bad.getKey(), file, page);
            ProcessResources.assertNothingLeftBy(dir, TIMES, () -> refuseFirstUse(bad.getKey(), file, page));
        }
    }

    /** And the sound file, opened, read and closed, for comparison: it must not leak either. */
    @Test
    void aSoundFileReadAndClosedLeavesNothingEither() throws Throwable {
        MemorySegment memory = arena.allocate(2L << 20);
        Executable readAll = () -> {
            try (SnapshotReader reader = format.open(good)) {
                reader.readPages(0, 0, 512, memory);
                reader.readPages(1, 0, 256, memory);
            }
        };
        readAll.execute();
        ProcessResources.assertNothingLeftBy(dir, TIMES, readAll);
    }

    private void refuse(String kind, Path file) {
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(file).close(), kind);
        assertTrue(e.getMessage().startsWith(file + ": "), kind + ": " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), kind + ": " + e.getMessage());
    }

    private void refuseFirstUse(String kind, Path file, MemorySegment page) {
        try (SnapshotReader reader = format.open(file)) {
            assertThrows(SnapshotException.class, () -> reader.isPresent(1, 0), kind);
            assertThrows(SnapshotException.class, () -> reader.readPages(1, 0, 1, page), kind);
        }
    }

    // ---- making the files ----

    private interface Change {
        void apply(Path file) throws IOException;
    }

    private Path changed(String name, Change change) throws IOException {
        Path file = Files.copy(good, dir.resolve(name + ".thaw"));
        change.apply(file);
        return file;
    }

    private Path truncated(String name, long length) throws IOException {
        return changed("truncated-" + name, f -> Snapshots.truncate(f, length));
    }

    private Path appended() throws IOException {
        return changed("longer", f -> Files.write(f, new byte[1], StandardOpenOption.APPEND));
    }
}
