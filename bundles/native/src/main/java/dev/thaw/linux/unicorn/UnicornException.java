package dev.thaw.linux.unicorn;

/**
 * A failed Unicorn call: the message reads like {@code uc_mem_map failed: Invalid argument (UC_ERR_ARG) (uc_err 15)}
 * ({@code uc_strerror}'s text); {@link #err()} is the {@code uc_err} value, one of the {@code UC_ERR_*}
 * constants of {@link Unicorn}.
 */
public final class UnicornException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int err;

    public UnicornException(String call, int err) {
        super(call + " failed: " + Unicorn.strerror(err) + " (uc_err " + err + ")");
        this.call = call;
        this.err = err;
    }

    /** The call that failed, e.g. {@code uc_mem_map}. */
    public String call() {
        return call;
    }

    /** The {@code uc_err} it returned. */
    public int err() {
        return err;
    }
}
