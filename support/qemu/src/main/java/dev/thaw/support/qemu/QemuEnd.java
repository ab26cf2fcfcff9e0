package dev.thaw.support.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Ending a QEMU child process and clearing up its private folder, the same way wherever Thaw runs one. */
public final class QemuEnd {

    /** How long QEMU gets to end on SIGTERM (it flushes and closes its sockets) before SIGKILL. */
    static final Duration GRACE = Duration.ofSeconds(5);
    /** How long a SIGKILLed QEMU may take to be reaped: beyond it something is badly wrong with the host. */
    static final Duration REAP = Duration.ofSeconds(30);

    private QemuEnd() {}

    /** Ends {@code process} (SIGTERM, then SIGKILL) whatever state it is in, and waits for it; never leaves it running. */
    public static void end(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(REAP.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly(); // never leave a QEMU behind, even when asked to hurry
            Thread.currentThread().interrupt();
        }
    }

    /** Removes {@code dir} and the files in it (sockets, QEMU's output): a QEMU's folder holds no subfolders. */
    public static void removeFolder(Path dir) throws IOException {
        try (Stream<Path> left = Files.list(dir)) {
            for (Path p : left.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
