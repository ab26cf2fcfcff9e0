package dev.thaw.linux.unicorn;

/** {@code libunicorn.so.2} cannot be loaded here; the message is one line naming the package to install. */
public final class UnicornUnavailableException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public UnicornUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
