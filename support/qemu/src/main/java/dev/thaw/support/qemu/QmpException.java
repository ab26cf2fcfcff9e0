package dev.thaw.support.qemu;

import java.io.Serial;

/** A QMP command failed, or QEMU's monitor could not be reached or answered wrong; the message says which, in one line. */
public final class QmpException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    public QmpException(String message) {
        super(message);
    }

    public QmpException(String message, Throwable cause) {
        super(message, cause);
    }
}
