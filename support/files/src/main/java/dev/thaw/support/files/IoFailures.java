package dev.thaw.support.files;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** I/O failures in a few words, for the one-line errors that name the file themselves. */
public final class IoFailures {

    private IoFailures() {}

    /**
     * {@code e} without the path the JDK puts in its message ({@code "permission denied"}, {@code "Read-only
     * file system"}), since the caller's message already leads with the file.
     */
    public static String describe(IOException e) {
        return switch (e) {
            case ClosedByInterruptException x -> "interrupted";
            case NoSuchFileException x -> "no such file or directory";
            case AccessDeniedException x -> "permission denied";
            case FileSystemException x when x.getReason() != null -> oneLine(x.getReason());
            case FileSystemException x -> "file system error";
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : oneLine(e.getMessage());
        };
    }

    /** {@code text} on one line: each line break, with the spaces around it, becomes one space. */
    public static String oneLine(String text) {
        return text.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
