package dev.thaw.support.profile;

import static dev.thaw.testing.FileModes.mode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.testing.FileModes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A working-set profile shows which guest pages a workload touched, so it is as private as the
 * snapshot: created 0600, a replaced profile's mode kept, a link at its path replaced and not written
 * through, and two restores saving it at once each leave a complete profile (the last one wins).
 */
@Timeout(60)
class ProfileFileModeTest {

    static final String ID = "sha256:" + "ab".repeat(32);
    static final long PAGES = 1 << 20;

    @TempDir
    Path dir;

    /** A profile of {@code n} runs of {@code n} pages each, so profiles of different {@code n} differ. */
    private static List<PageRange> runs(int n) {
        List<PageRange> runs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            runs.add(new PageRange(1000L * i, n));
        }
        return runs;
    }

    private static void save(Path file, int n) {
        Profiles.write(file, ID, Path.of("vm.thaw"), 4096, PAGES, (long) n * n, runs(n));
    }

    private static WorkingSet load(Path file) {
        List<String> warnings = new ArrayList<>();
        Optional<WorkingSet> profile = Profiles.read(file, ID, 4096, PAGES, warnings);
        assertEquals(List.of(), warnings);
        return profile.orElseThrow();
    }

    private List<Path> files(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.sorted().toList();
        }
    }

    @Test
    void aNewProfileIsReadableByItsOwnerOnly() throws Exception {
        Path file = dir.resolve("profiles").resolve("vm.thaw.profile.json"); // its folder made on first use
        save(file, 3);
        assertEquals("rw-------", mode(file));
        assertEquals(runs(3), load(file).runs());
        assertEquals(List.of(file), files(file.getParent()));
    }

    @Test
    void aReplacedProfileKeepsItsMode() throws Exception {
        Path file = Files.writeString(dir.resolve("vm.thaw.profile.json"), "{}");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        save(file, 2);
        assertEquals("rw-r-----", mode(file));
        assertEquals(runs(2), load(file).runs());
    }

    @Test
    void aSymbolicLinkAtTheProfilesPathIsReplacedNotWrittenThrough() throws Exception {
        byte[] elsewhere = "a file the link points to".getBytes(StandardCharsets.US_ASCII);
        Path pointedTo = Files.write(dir.resolve("pointed-to"), elsewhere);
        Path link = Files.createSymbolicLink(dir.resolve("vm.thaw.profile.json"), pointedTo);
        save(link, 2);
        assertFalse(Files.isSymbolicLink(link));
        assertEquals("rw-------", mode(link));
        assertArrayEquals(elsewhere, Files.readAllBytes(pointedTo));
        assertEquals(runs(2), load(link).runs());
    }

    /** The temporary name was fixed and written with Files.write, which follows a link planted there. */
    @Test
    void aLinkPlantedAtTheOldTemporaryNameIsNotWrittenThrough() throws Exception {
        byte[] victim = "a file of someone else's".getBytes(StandardCharsets.US_ASCII);
        Path pointedTo = Files.write(dir.resolve("victim"), victim);
        Path planted = Files.createSymbolicLink(dir.resolve(".vm.thaw.profile.json.tmp"), pointedTo);
        Path file = dir.resolve("vm.thaw.profile.json");
        save(file, 2);
        assertArrayEquals(victim, Files.readAllBytes(pointedTo));
        assertFalse(Files.isSymbolicLink(file));
        assertEquals(runs(2), load(file).runs());
        assertEquals(List.of(planted, pointedTo, file), files(dir));
    }

    /**
     * Restores of one snapshot finishing together save its profile at once. Before, they shared one
     * temporary name: one truncated the other's file under it, or renamed it away so that the other's
     * rename failed.
     */
    @Test
    void concurrentSavesOfOneProfileEachSucceedAndLeaveACompleteOne() throws Exception {
        Path file = dir.resolve("vm.thaw.profile.json");
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 25; round++) {
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<?>> saves = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int n = 200 + t * 50; // a few KiB each, so that writes overlap
                    saves.add(pool.submit(() -> {
                        start.await();
                        save(file, n);
                        return null;
                    }));
                }
                for (Future<?> save : saves) {
                    save.get(); // rethrows a save's failure
                }
                List<PageRange> saved = load(file).runs();
                assertTrue(saved.size() >= 200 && saved.equals(runs(saved.size())), "round " + round + ": a mixed profile");
                assertEquals(List.of(file), files(dir), "round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFolderThatRefusesNewFilesFailsInOneLineAndLeavesNothing() throws Exception {
        Path folder = FileModes.folderRefusingNewFiles(dir);
        Path file = folder.resolve("vm.thaw.profile.json");
        RestoreException e = assertThrows(RestoreException.class, () -> save(file, 2));
        assertEquals(file + ": cannot write the working-set profile: permission denied", e.getMessage());
        try (Stream<Path> left = Files.list(folder)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith(".vm.thaw.profile.json")));
        }
    }

    @Test
    void aFailedSaveLeavesNoTemporaryFile() throws Exception {
        Path taken = Files.createDirectory(dir.resolve("vm.thaw.profile.json"));
        Files.writeString(taken.resolve("inside"), "x");
        RestoreException e = assertThrows(RestoreException.class, () -> save(taken, 2));
        assertTrue(e.getMessage().startsWith(taken + ": cannot write the working-set profile: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals(List.of(taken), files(dir));
    }
}
