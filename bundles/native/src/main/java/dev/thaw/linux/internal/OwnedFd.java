package dev.thaw.linux.internal;

import dev.thaw.linux.Libc;

/**
 * A file descriptor that its holder ({@code Kvm}, {@code VmFd}, {@code VcpuFd}, {@code Userfaultfd})
 * closes exactly once: {@link #close()} is idempotent and from then on {@link #get()} is -1, so a late
 * call fails with EBADF instead of reaching whatever file reuses the number.
 */
public final class OwnedFd {

    private volatile int fd;

    public OwnedFd(int fd) {
        this.fd = fd;
    }

    /** The fd, or -1 once closed. */
    public int get() {
        return fd;
    }

    /** close(2), unless closed already. */
    public synchronized void close() {
        int f = fd;
        if (f >= 0) {
            fd = -1;
            Libc.close(f);
        }
    }
}
