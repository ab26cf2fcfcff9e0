package dev.thaw.support.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegularFilesTest {

    @Test
    void eachKindOfPathIsNamed(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertNull(RegularFiles.notRegular(file));
        assertNull(RegularFiles.notRegular(Files.createSymbolicLink(dir.resolve("link"), file)));
        assertEquals("is a directory", RegularFiles.notRegular(dir));
        assertEquals("is a FIFO", RegularFiles.notRegular(fifo));
        assertEquals("is a device", RegularFiles.notRegular(Path.of("/dev/null")));
    }
}
