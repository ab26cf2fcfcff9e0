package dev.thaw.restore.impl;

import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The eventfd that tells the fault service to stop polling. Once signalled it stays readable (nobody
 * reads it), so every later poll returns at once. After {@link #close()} a signal does nothing: the
 * fault service it was for has ended, and the number may belong to another file by now.
 */
final class StopSignal implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StopSignal.class);

    private final SharedFd fd;

    StopSignal() {
        int efd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        fd = new SharedFd("stop eventfd", efd, () -> Libc.close(efd));
    }

    /** Makes the fd readable; nothing once closed. */
    void signal() {
        int efd = fd.tryAcquire();
        if (efd < 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1);
            Libc.write(efd, one);
        } catch (ErrnoException e) {
            // EAGAIN only after 2^64 - 2 signals: readable already, which is all a signal is for
            LOG.debug("stop signal: {}", e.getMessage());
        } finally {
            fd.release();
        }
    }

    /** The fd, for poll, under a lease. */
    SharedFd fd() {
        return fd;
    }

    @Override
    public void close() {
        fd.close();
    }
}
