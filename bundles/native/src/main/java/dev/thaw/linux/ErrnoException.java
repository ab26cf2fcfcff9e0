package dev.thaw.linux;

/**
 * A system call or ioctl failed. The message reads like {@code KVM_SET_SREGS failed: EINVAL (Invalid
 * argument)}; {@link #errno()} tells harmless outcomes apart ({@link #interrupted()},
 * {@link #wouldBlock()}, {@link #alreadyExists()}).
 */
public class ErrnoException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public ErrnoException(String call, int errno) {
        this(call, errno, null);
    }

    /** With {@code detail} appended to the message, e.g. the argument that was refused. */
    public ErrnoException(String call, int errno, String detail) {
        super(call + " failed: " + Errno.name(errno) + " (" + Errno.description(errno) + ")"
                + (detail == null ? "" : "; " + detail));
        this.call = call;
        this.errno = errno;
    }

    /** The call that failed, e.g. {@code KVM_RUN} or {@code mmap}. */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    /** The errno's symbolic name, e.g. {@code EEXIST}. */
    public String errnoName() {
        return Errno.name(errno);
    }

    /** EINTR: a signal interrupted the call; nothing is wrong. */
    public boolean interrupted() {
        return errno == Errno.EINTR;
    }

    /** EAGAIN: nothing to do now (non-blocking fd), or retry later. */
    public boolean wouldBlock() {
        return errno == Errno.EAGAIN;
    }

    /** EEXIST: already there (for userfaultfd: the page is present; wake the waiter). */
    public boolean alreadyExists() {
        return errno == Errno.EEXIST;
    }
}
