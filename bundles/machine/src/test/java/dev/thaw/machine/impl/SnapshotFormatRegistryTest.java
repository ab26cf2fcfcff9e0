package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry reads a file's first bytes to choose its format, so it must refuse what is no regular file
 * before it reads (issue 12, item 8): a FIFO used to block the probe until a writer came.
 */
class SnapshotFormatRegistryTest {

    @TempDir
    Path dir;

    private final SnapshotFormatRegistry registry = new SnapshotFormatRegistry();

    SnapshotFormatRegistryTest() {
        registry.addFormat(new SnapshotFormat() {
            @Override
            public String name() {
                return "any";
            }

            @Override
            public String description() {
                return "recognises everything, opens nothing";
            }

            @Override
            public boolean probe(byte[] head) {
                return true;
            }

            @Override
            public SnapshotReader open(Path file) {
                throw new SnapshotException(file, "probed");
            }
        });
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aFifoIsRefusedBeforeItsFirstByteIsRead() throws Exception {
        Path fifo = dir.resolve("snapshot.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        assertEquals(fifo + ": is a FIFO, not a snapshot file", refused(fifo, 0));
        assertEquals(fifo + ": is a FIFO, not a snapshot file", refused(fifo, 4096));
    }

    @Test
    void directoriesDevicesAndMissingFilesAreRefusedAndARegularFileIsProbed() throws Exception {
        assertEquals(dir + ": is a directory, not a snapshot file", refused(dir, 0));
        assertEquals("/dev/zero: is a device, not a snapshot file", refused(Path.of("/dev/zero"), 0));
        assertEquals(dir.resolve("missing") + ": no such file", refused(dir.resolve("missing"), 0));
        Path file = Files.write(dir.resolve("file"), new byte[100]);
        assertEquals(file + ": probed", refused(file, 0));
        assertEquals(file + ": is 100 bytes long: no snapshot starts at byte 100", refused(file, 100));
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void noRefusalLeavesAFileOpen() throws Exception {
        Path fifo = dir.resolve("snapshot.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        Path file = Files.write(dir.resolve("file"), new byte[100]);
        List<Path> paths = List.of(dir, fifo, Path.of("/dev/zero"), dir.resolve("missing"), file);
        paths.forEach(p -> refused(p, 0));
        long before = openFds();
        for (int i = 0; i < 20; i++) {
            paths.forEach(p -> refused(p, 0));
        }
        assertEquals(before, openFds(), "open file descriptors");
    }

    private String refused(Path file, long offset) {
        return assertThrows(SnapshotException.class, () -> registry.open(file, offset).close()).getMessage();
    }

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
