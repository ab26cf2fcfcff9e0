package dev.thaw.qemu.postcopy.impl;

import java.io.Serial;

/** A QMP command failed, or QEMU's monitor could not be reached or answered wrong; the message says which, in one line. */
public final class QmpException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    QmpException(String message) {
        super(message);
    }

    QmpException(String message, Throwable cause) {
        super(message, cause);
    }
}
