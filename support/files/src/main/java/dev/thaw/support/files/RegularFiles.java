package dev.thaw.support.files;

import dev.thaw.api.snapshot.SnapshotException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What a path is when it is not a regular file, asked before it is opened: opening a FIFO for reading
 * blocks until a writer comes, and a device has no end, so a snapshot reader must refuse them first.
 */
public final class RegularFiles {

    // st_mode's file types (sys/stat.h)
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFSOCK = 0140000;

    private RegularFiles() {}

    /**
     * Refuses {@code file} unless it is a regular file, with the readers' one-line errors: {@code "no such
     * file"}, {@code "<failure>: <reason>"} when its attributes cannot be read, {@code "is a FIFO, not a
     * snapshot file"} and the like.
     */
    public static void requireRegular(Path file, String failure) {
        String notRegular;
        try {
            notRegular = notRegular(file);
        } catch (NoSuchFileException e) {
            throw new SnapshotException(file, "no such file");
        } catch (IOException e) {
            throw new SnapshotException(file, failure + ": " + e.getMessage(), e);
        }
        if (notRegular != null) {
            throw new SnapshotException(file, notRegular + ", not a snapshot file");
        }
    }

    /** What {@code file} is when it is not a regular file ({@code "is a FIFO"}), else null. Follows links. */
    public static String notRegular(Path file) throws IOException {
        return notRegular(file, Files.readAttributes(file, BasicFileAttributes.class));
    }

    /** The same, with {@code attributes} already read of {@code file}. */
    public static String notRegular(Path file, BasicFileAttributes attributes) {
        if (attributes.isRegularFile()) {
            return null;
        }
        if (attributes.isDirectory()) {
            return "is a directory";
        }
        try {
            return switch ((Integer) Files.getAttribute(file, "unix:mode") & S_IFMT) {
                case S_IFIFO -> "is a FIFO";
                case S_IFCHR, S_IFBLK -> "is a device";
                case S_IFSOCK -> "is a socket";
                default -> "is not a regular file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "is not a regular file"; // gone since, or no "unix" attribute view here
        }
    }
}
