package dev.thaw.testing;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Permission bits and refusing folders, for the tests of files that must stay private to their owner. */
public final class FileModes {

    private FileModes() {}

    /** {@code file}'s permission bits ({@code "rw-------"}), of a link itself rather than what it points to. */
    public static String mode(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
    }

    /**
     * A folder where no new file can be created: a 0555 folder made in {@code dir}, or, since root may
     * write into that, sysfs's top folder (the test is skipped where even that takes new files).
     */
    public static Path folderRefusingNewFiles(Path dir) throws IOException {
        if ("root".equals(System.getProperty("user.name"))) {
            Path folder = Path.of("/sys");
            assumeFalse(takesNewFiles(folder), folder + " takes new files here: no folder that refuses root to try");
            return folder;
        }
        Path folder = Files.createDirectory(dir.resolve("read-only"));
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("r-xr-xr-x"));
        return folder;
    }

    private static boolean takesNewFiles(Path folder) {
        try {
            Files.delete(Files.createFile(folder.resolve(".thaw-probe")));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
