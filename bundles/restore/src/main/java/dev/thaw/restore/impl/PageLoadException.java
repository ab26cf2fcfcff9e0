package dev.thaw.restore.impl;

import java.io.Serial;

/** A snapshot-held page could not be read or copied in: which one (numbered across regions), and why. */
final class PageLoadException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final long page;

    PageLoadException(long page, String message, Throwable cause) {
        super(message, cause);
        this.page = page;
    }

    /** The page, numbered across regions (see {@link Pages}). */
    long page() {
        return page;
    }
}
