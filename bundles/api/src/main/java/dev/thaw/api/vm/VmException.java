package dev.thaw.api.vm;

import java.io.Serial;

/** A VM operation failed; the message is one line meant for the user. */
public class VmException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    public VmException(String message) {
        super(message);
    }

    public VmException(String message, Throwable cause) {
        super(message, cause);
    }
}
