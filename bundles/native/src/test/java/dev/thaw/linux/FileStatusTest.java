package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stat(2) and fstat(2) against what the JDK reads of the same file, and their failures. */
class FileStatusTest {

    @TempDir
    Path dir;

    private static long nanos(Object time) {
        return ((FileTime) time).to(TimeUnit.NANOSECONDS);
    }

    @Test
    void statAndFstatSayWhatTheJdkSaysOfTheFile() throws Exception {
        Path file = dir.resolve("f");
        Files.write(file, new byte[12345]);
        Files.setLastModifiedTime(file, FileTime.from(1_700_000_000_123_456_789L, TimeUnit.NANOSECONDS));
        Map<String, Object> unix = Files.readAttributes(file, "unix:dev,ino,nlink,size,lastModifiedTime,ctime");
        FileStatus byPath = FileStatus.of(file.toString());
        assertEquals((long) unix.get("dev"), byPath.device());
        assertEquals((long) unix.get("ino"), byPath.inode());
        assertEquals(1L, byPath.links());
        assertEquals(((Integer) unix.get("nlink")).longValue(), byPath.links());
        assertEquals(12345, byPath.size());
        assertTrue(byPath.blocks() * 512 >= 12345, "blocks " + byPath.blocks());
        assertEquals(1_700_000_000_123_456_789L, byPath.modifiedNanos());
        assertEquals(nanos(unix.get("ctime")), byPath.changedNanos());
        int fd = Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            assertEquals(byPath, FileStatus.of(fd, file.toString()));
            // The fd keeps the inode: a file renamed over the path is another file, the fd's is unchanged.
            Path other = dir.resolve("g");
            Files.write(other, new byte[7]);
            Files.move(other, file, StandardCopyOption.REPLACE_EXISTING);
            FileStatus replaced = FileStatus.of(file.toString());
            assertFalse(replaced.sameFile(byPath));
            assertEquals(7, replaced.size());
            FileStatus held = FileStatus.of(fd, file.toString());
            assertTrue(held.sameFile(byPath));
            assertEquals(12345, held.size());
            assertEquals(0, held.links(), "the held file has no name now");
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void aBadFdOrAMissingPathFailsWithItsErrno() {
        ErrnoException badFd = assertThrows(ErrnoException.class, () -> FileStatus.of(-1, "nothing"));
        assertEquals(Errno.EBADF, badFd.errno());
        assertEquals("fstat", badFd.call());
        ErrnoException missing = assertThrows(ErrnoException.class, () -> FileStatus.of(dir.resolve("none").toString()));
        assertEquals(Errno.ENOENT, missing.errno());
        assertTrue(missing.getMessage().contains("none"), missing.getMessage());
    }
}
