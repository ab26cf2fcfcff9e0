package dev.thaw.format.thaw.impl;

import static dev.thaw.testing.FileModes.mode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.thaw.impl.Snapshots.Memory;
import dev.thaw.testing.FileModes;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot holds guest memory, so nobody but its owner may read it, at no moment: a new file is 0600
 * whatever the umask allows, a replaced file's mode is kept, and a symbolic link at the target is
 * replaced, never written through.
 */
@Timeout(30)
class ThawSnapshotFileModeTest {

    @TempDir
    Path dir;

    final ThawSnapshotWriter writer = new ThawSnapshotWriter();
    Arena arena;
    Memory memory;

    @BeforeEach
    void someMemory() {
        arena = Arena.ofConfined();
        memory = Snapshots.memory(arena, 31, Snapshots.twoRegions(1L << 20, 1L << 20));
    }

    @AfterEach
    void freeMemory() {
        arena.close();
    }

    private void write(Path file) {
        writer.write(file, Snapshots.state(31, memory.layouts()), memory.regions(), Progress.NONE);
    }

    private void assertOnly(Path... files) throws IOException {
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(Stream.of(files).sorted().toList(), left.sorted().toList(), "the folder's files");
        }
    }

    @Test
    void aNewSnapshotIsReadableByItsOwnerOnly() throws Exception {
        // Whatever the umask of the machine running the test: before the fix the file was 0666 minus it.
        Path file = dir.resolve("new.thaw");
        write(file);
        assertEquals("rw-------", mode(file));
        assertOnly(file);
    }

    @Test
    void aReplacedSnapshotKeepsItsMode() throws Exception {
        Path file = Files.writeString(dir.resolve("old.thaw"), "an older snapshot");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        write(file);
        assertEquals("rw-r-----", mode(file));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        write(file);
        assertEquals("rw-------", mode(file), "a private snapshot replaced stays private");
        try (SnapshotReader reader = new ThawSnapshotFormat().open(file)) {
            Snapshots.assertSameContent(reader, memory);
        }
        assertOnly(file);
    }

    @Test
    void aSymbolicLinkAtTheTargetIsReplacedNotWrittenThrough() throws Exception {
        byte[] elsewhere = "a file the link points to, which the writer must not touch".getBytes(StandardCharsets.US_ASCII);
        Path pointedTo = Files.write(dir.resolve("pointed-to"), elsewhere);
        Files.setPosixFilePermissions(pointedTo, PosixFilePermissions.fromString("rw-rw-rw-"));
        Path link = Files.createSymbolicLink(dir.resolve("link.thaw"), pointedTo);
        write(link);
        assertFalse(Files.isSymbolicLink(link), "the link is replaced by the snapshot");
        assertEquals("rw-------", mode(link), "the link's target's mode is not taken");
        assertArrayEquals(elsewhere, Files.readAllBytes(pointedTo));
        assertEquals("rw-rw-rw-", mode(pointedTo));
        try (SnapshotReader reader = new ThawSnapshotFormat().open(link)) {
            Snapshots.assertSameContent(reader, memory);
        }
        assertOnly(link, pointedTo);
    }

    @Test
    void aFolderThatRefusesNewFilesFailsInOneLineAndLeavesNothing() throws Exception {
        Path folder = FileModes.folderRefusingNewFiles(dir);
        Path file = folder.resolve("vm.thaw");
        Snapshots.assertProblem(file, "cannot create a temporary file beside it: permission denied", () -> write(file));
        try (Stream<Path> left = Files.list(folder)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith(".vm.thaw")), "a temporary file left");
        }
    }

    @Test
    void aFailedWriteLeavesNoTemporaryFileAndTheOldModeUntouched() throws Exception {
        Path file = Files.writeString(dir.resolve("old.thaw"), "an older snapshot");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        assertThrows(SnapshotException.class, () -> writer.write(file, Snapshots.state(31, memory.layouts()),
                memory.regions(), (done, total) -> {
                    if (done > 0) {
                        throw new IllegalStateException("stop");
                    }
                }));
        assertEquals("an older snapshot", Files.readString(file));
        assertEquals("rw-r-----", mode(file));
        assertOnly(file);
    }
}
