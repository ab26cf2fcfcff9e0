package dev.thaw.launcher;

import java.io.Serial;

/** The platform could not start or run; the message is one line for the user. */
final class LaunchException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    LaunchException(String message) {
        super(message);
    }

    LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
