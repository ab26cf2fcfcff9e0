package dev.thaw.support.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplacementFileTest {

    @TempDir
    Path dir;

    private static String mode(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    @Test
    void theTemporaryFileIsPrivateFromItsCreationAndGoneWhenClosedUnused() throws Exception {
        Path target = dir.resolve("vm.thaw");
        try (ReplacementFile file = ReplacementFile.create(target)) {
            assertTrue(file.temp().getFileName().toString().matches("\\.vm\\.thaw\\.tmp-[0-9a-f]{8}"), file.temp().toString());
            assertEquals("rw-------", mode(file.temp()));
            file.channel().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        assertEquals(List.of(), files());
    }

    @Test
    void aReplacedFileGivesItsModeAndOnlyARegularFileDoes() throws Exception {
        Path target = Files.writeString(dir.resolve("profile.json"), "old");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r-----"));
        ReplacementFile.replace(target, "new".getBytes());
        assertEquals("new", Files.readString(target));
        assertEquals("rw-r-----", mode(target));

        Path elsewhere = Files.writeString(dir.resolve("elsewhere"), "untouched");
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rw-rw-rw-"));
        Path link = Files.createSymbolicLink(dir.resolve("link.json"), elsewhere);
        ReplacementFile.replace(link, "new".getBytes());
        assertEquals("new", Files.readString(link, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals("rw-------", mode(link));
        assertEquals("untouched", Files.readString(elsewhere));
        assertEquals(List.of(elsewhere, link, target), files());
    }

    @Test
    void aFailedRenameLeavesNoTemporaryFile() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("taken"));
        assertThrows(IOException.class, () -> ReplacementFile.replace(folder, new byte[] {1}));
        assertEquals(List.of(folder), files());
    }
}
