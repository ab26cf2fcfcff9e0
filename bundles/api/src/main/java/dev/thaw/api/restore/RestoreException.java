package dev.thaw.api.restore;

import java.io.Serial;

/** A lazy restore could not be started or its profile not written; the message says why, in one line. */
public class RestoreException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    public RestoreException(String message) {
        super(message);
    }

    public RestoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
