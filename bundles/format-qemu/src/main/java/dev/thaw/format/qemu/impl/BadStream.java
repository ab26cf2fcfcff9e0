package dev.thaw.format.qemu.impl;

import java.io.Serial;

/** The stream is not a readable mapped-ram file; the message says what and where, without the file's name. */
final class BadStream extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    BadStream(String problem) {
        super(problem);
    }
}
