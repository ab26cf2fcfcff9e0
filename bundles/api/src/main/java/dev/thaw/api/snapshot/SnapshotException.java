package dev.thaw.api.snapshot;

import java.io.Serial;
import java.nio.file.Path;

/** A snapshot file could not be written or read; the message names the file and the problem in one line. */
public class SnapshotException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    public SnapshotException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public SnapshotException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
