package dev.thaw.linux;

import static dev.thaw.linux.internal.Mem.U64;

import dev.thaw.linux.internal.Ioctls;
import dev.thaw.linux.internal.Mem;
import dev.thaw.linux.internal.OwnedFd;
import dev.thaw.linux.internal.UffdMsg;
import dev.thaw.linux.internal.UffdioApi;
import dev.thaw.linux.internal.UffdioContinue;
import dev.thaw.linux.internal.UffdioMove;
import dev.thaw.linux.internal.UffdioCopy;
import dev.thaw.linux.internal.UffdioRange;
import dev.thaw.linux.internal.UffdioRegister;
import dev.thaw.linux.internal.UffdioWriteprotect;
import dev.thaw.linux.internal.UffdioZeropage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A userfaultfd(2) file descriptor with thin wrappers of its ioctls. Each call makes one ioctl or
 * read and throws an {@link ErrnoException} on failure; the harmless outcomes are named
 * ({@link ErrnoException#alreadyExists()}: the page is present, {@link ErrnoException#wouldBlock()}:
 * retry). No policy: serving faults is the restore engine's job.
 */
public final class Userfaultfd implements AutoCloseable {

    public static final long UFFD_API = 0xAA;

    public static final long UFFD_FEATURE_PAGEFAULT_FLAG_WP = 1L << 0;
    public static final long UFFD_FEATURE_EVENT_FORK = 1L << 1;
    public static final long UFFD_FEATURE_EVENT_REMAP = 1L << 2;
    public static final long UFFD_FEATURE_EVENT_REMOVE = 1L << 3;
    public static final long UFFD_FEATURE_MISSING_HUGETLBFS = 1L << 4;
    public static final long UFFD_FEATURE_MISSING_SHMEM = 1L << 5;
    public static final long UFFD_FEATURE_EVENT_UNMAP = 1L << 6;
    public static final long UFFD_FEATURE_SIGBUS = 1L << 7;
    public static final long UFFD_FEATURE_THREAD_ID = 1L << 8;
    public static final long UFFD_FEATURE_MINOR_HUGETLBFS = 1L << 9;
    /** MINOR faults (REGISTER_MODE_MINOR) and UFFDIO_CONTINUE on shmem, memfd included (Linux 5.14). */
    public static final long UFFD_FEATURE_MINOR_SHMEM = 1L << 10;
    /** UFFDIO_MOVE: pages, huge ones whole, moved from anonymous memory into a registered range (Linux 6.8). */
    public static final long UFFD_FEATURE_MOVE = 1L << 16;

    public static final long UFFDIO_REGISTER_MODE_MISSING = 1L << 0;
    public static final long UFFDIO_REGISTER_MODE_WP = 1L << 1;
    public static final long UFFDIO_REGISTER_MODE_MINOR = 1L << 2;

    public static final long UFFDIO_COPY_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_COPY_MODE_WP = 1L << 1;
    public static final long UFFDIO_ZEROPAGE_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_CONTINUE_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_MOVE_MODE_DONTWAKE = 1L << 0;
    public static final long UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES = 1L << 1;
    public static final long UFFDIO_WRITEPROTECT_MODE_WP = 1L << 0;
    public static final long UFFDIO_WRITEPROTECT_MODE_DONTWAKE = 1L << 1;

    public static final int UFFD_EVENT_PAGEFAULT = 0x12;
    public static final int UFFD_EVENT_FORK = 0x13;
    public static final int UFFD_EVENT_REMAP = 0x14;
    public static final int UFFD_EVENT_REMOVE = 0x15;
    public static final int UFFD_EVENT_UNMAP = 0x16;

    public static final long UFFD_PAGEFAULT_FLAG_WRITE = 1L << 0;
    public static final long UFFD_PAGEFAULT_FLAG_WP = 1L << 1;
    public static final long UFFD_PAGEFAULT_FLAG_MINOR = 1L << 2;

    /** What UFFDIO_API answered: the API version and the features and ioctls now enabled. */
    public record Api(long api, long features, long ioctls) {}

    /**
     * One {@code struct uffd_msg}. For {@link #UFFD_EVENT_PAGEFAULT} use {@link #flags()},
     * {@link #address()} and {@link #ptid()}; other events keep their union words in {@code arg0..arg2}.
     */
    public record Message(int event, long arg0, long arg1, long arg2) {

        public boolean isPagefault() {
            return event == UFFD_EVENT_PAGEFAULT;
        }

        /** {@code arg.pagefault.flags}: {@code UFFD_PAGEFAULT_FLAG_*}. */
        public long flags() {
            return arg0;
        }

        /** {@code arg.pagefault.address}: the faulting address (page-aligned unless EXACT_ADDRESS). */
        public long address() {
            return arg1;
        }

        /** {@code arg.pagefault.feat.ptid}: the faulting thread's id, with {@link #UFFD_FEATURE_THREAD_ID}. */
        public int ptid() {
            return (int) arg2;
        }
    }

    /** UFFDIO_COPY, UFFDIO_ZEROPAGE, UFFDIO_CONTINUE or UFFDIO_MOVE failed after {@link #completed()} bytes (e.g. EAGAIN part way). */
    public static final class RangeException extends ErrnoException {

        private static final long serialVersionUID = 1L;
        private final long completed;

        RangeException(String call, int errno, long completed, String detail) {
            super(call, errno, detail + (completed > 0 ? ", " + completed + " bytes done" : ""));
            this.completed = completed;
        }

        /** Bytes handled before the failure (0 when none). */
        public long completed() {
            return completed;
        }
    }

    private final OwnedFd fd;

    private Userfaultfd(int fd) {
        this.fd = new OwnedFd(fd);
    }

    /** userfaultfd(2) with {@code flags} (e.g. {@code O_CLOEXEC | O_NONBLOCK}). Call {@link #api} next. */
    public static Userfaultfd open(int flags) {
        return new Userfaultfd(Libc.userfaultfd(flags));
    }

    /**
     * Whether this kernel's userfaultfd offers every one of {@code features} ({@code UFFD_FEATURE_*}), asked on a
     * userfaultfd of its own: a userfaultfd takes its features once, and asking for one it lacks fails.
     */
    public static boolean offers(long features) {
        try (Userfaultfd probe = open(Libc.O_CLOEXEC)) {
            return (probe.api(0).features() & features) == features;
        }
    }

    /** Wraps an fd this object then owns (tests use it with invalid fds). */
    public static Userfaultfd wrap(int fd) {
        return new Userfaultfd(fd);
    }

    public int fd() {
        return fd.get();
    }

    /** UFFDIO_API: the handshake, enabling {@code features} ({@code UFFD_FEATURE_*}). Must come first. */
    public Api api(long features) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(UffdioApi.LAYOUT);
            s.set(U64, UffdioApi.API, UFFD_API);
            s.set(U64, UffdioApi.FEATURES, features);
            Libc.ioctl(fd.get(), Ioctls.UFFDIO_API, s, "UFFDIO_API");
            return new Api(s.get(U64, UffdioApi.API), s.get(U64, UffdioApi.FEATURES), s.get(U64, UffdioApi.IOCTLS));
        }
    }

    /** UFFDIO_REGISTER of {@code [start, start+length)} in {@code mode}; returns the ioctls allowed on it. */
    public long register(long start, long length, long mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(UffdioRegister.LAYOUT);
            UffdioRange.write(s.asSlice(UffdioRegister.RANGE, UffdioRange.LAYOUT), start, length);
            s.set(U64, UffdioRegister.MODE, mode);
            Libc.ioctl(fd.get(), Ioctls.UFFDIO_REGISTER, s, "UFFDIO_REGISTER");
            return s.get(U64, UffdioRegister.IOCTLS);
        }
    }

    /** UFFDIO_UNREGISTER of {@code [start, start+length)}. */
    public void unregister(long start, long length) {
        rangeIoctl(Ioctls.UFFDIO_UNREGISTER, "UFFDIO_UNREGISTER", start, length);
    }

    /** UFFDIO_WAKE: wakes threads waiting on faults in {@code [start, start+length)}. */
    public void wake(long start, long length) {
        rangeIoctl(Ioctls.UFFDIO_WAKE, "UFFDIO_WAKE", start, length);
    }

    /**
     * UFFDIO_COPY of {@code length} bytes from {@code src} to the registered {@code dst}; wakes the
     * waiters unless {@link #UFFDIO_COPY_MODE_DONTWAKE}. Returns the bytes copied. A page that is
     * already present fails with EEXIST ({@link ErrnoException#alreadyExists()}).
     */
    public long copy(long dst, long src, long length, long mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(UffdioCopy.LAYOUT);
            s.set(U64, UffdioCopy.DST, dst);
            s.set(U64, UffdioCopy.SRC, src);
            s.set(U64, UffdioCopy.LEN, length);
            s.set(U64, UffdioCopy.MODE, mode);
            return progressIoctl(s, Ioctls.UFFDIO_COPY, "UFFDIO_COPY", UffdioCopy.COPY, "dst", dst, length);
        }
    }

    /** UFFDIO_ZEROPAGE: maps zero pages over {@code [start, start+length)}; returns the bytes mapped. */
    public long zeropage(long start, long length, long mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(UffdioZeropage.LAYOUT);
            UffdioRange.write(s.asSlice(UffdioZeropage.RANGE, UffdioRange.LAYOUT), start, length);
            s.set(U64, UffdioZeropage.MODE, mode);
            return progressIoctl(s, Ioctls.UFFDIO_ZEROPAGE, "UFFDIO_ZEROPAGE", UffdioZeropage.ZEROPAGE, "start", start,
                    length);
        }
    }

    /**
     * UFFDIO_CONTINUE: maps the pages the backing file (shmem, hugetlbfs) already holds at
     * {@code [start, start+length)} of a range registered with {@link #UFFDIO_REGISTER_MODE_MINOR}, waking
     * the waiters unless {@link #UFFDIO_CONTINUE_MODE_DONTWAKE}; returns the bytes mapped. In a
     * {@code MAP_PRIVATE} mapping the pages are mapped read-only, so a write copies the page. A page
     * mapped already fails with EEXIST, one the file does not hold with EFAULT. Needs
     * {@link #UFFD_FEATURE_MINOR_SHMEM} (or {@code _HUGETLBFS}).
     */
    public long continuePages(long start, long length, long mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(UffdioContinue.LAYOUT);
            UffdioRange.write(s.asSlice(UffdioContinue.RANGE, UffdioRange.LAYOUT), start, length);
            s.set(U64, UffdioContinue.MODE, mode);
            return progressIoctl(s, Ioctls.UFFDIO_CONTINUE, "UFFDIO_CONTINUE", UffdioContinue.MAPPED, "start", start,
                    length);
        }
    }

    /**
     * UFFDIO_MOVE: moves the pages of anonymous private memory at {@code [src, src+length)} into the registered range
     * at {@code dst} (huge pages whole where both sides are aligned to them and the target has no page table there),
     * waking the waiters unless {@link #UFFDIO_MOVE_MODE_DONTWAKE}; returns the bytes moved. The source is left
     * empty; the target keeps its mapping, its protection (which must equal the source's) and its registration.
     *
     * @throws RangeException with the bytes moved before the failure (EEXIST: a target page is present; ENOENT: a
     *     source page is missing)
     */
    public long move(long dst, long src, long length, long mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(UffdioMove.LAYOUT);
            s.set(U64, UffdioMove.DST, dst);
            s.set(U64, UffdioMove.SRC, src);
            s.set(U64, UffdioMove.LEN, length);
            s.set(U64, UffdioMove.MODE, mode);
            return progressIoctl(s, Ioctls.UFFDIO_MOVE, "UFFDIO_MOVE", UffdioMove.MOVE, "dst", dst, length);
        }
    }

    /** UFFDIO_WRITEPROTECT of {@code [start, start+length)} ({@code UFFDIO_WRITEPROTECT_MODE_*}). */
    public void writeProtect(long start, long length, long mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(UffdioWriteprotect.LAYOUT);
            UffdioRange.write(s.asSlice(UffdioWriteprotect.RANGE, UffdioRange.LAYOUT), start, length);
            s.set(U64, UffdioWriteprotect.MODE, mode);
            Libc.ioctl(fd.get(), Ioctls.UFFDIO_WRITEPROTECT, s, "UFFDIO_WRITEPROTECT");
        }
    }

    /**
     * Reads one message. Returns empty when none is queued (EAGAIN on a non-blocking fd); a blocking fd
     * waits for one.
     */
    public Optional<Message> read() {
        return read(1).stream().findFirst();
    }

    /**
     * Reads the messages queued now, at most {@code max}, with one read(2) (the kernel fills the buffer
     * with as many as are pending); empty when none is (the fd is non-blocking).
     */
    public List<Message> read(int max) {
        try (Arena arena = Arena.ofConfined()) {
            long size = UffdMsg.LAYOUT.byteSize();
            MemorySegment s = arena.allocate(size * max, 8);
            long n;
            try {
                n = Libc.read(fd.get(), s);
            } catch (ErrnoException e) {
                if (e.wouldBlock()) {
                    return List.of();
                }
                throw e;
            }
            if (n % size != 0) {
                throw new IllegalStateException("read of a userfaultfd returned " + n + " bytes, not a multiple of " + size);
            }
            List<Message> messages = new ArrayList<>((int) (n / size));
            for (long at = 0; at < n; at += size) {
                MemorySegment m = s.asSlice(at, size);
                long arg = UffdMsg.ARG;
                messages.add(new Message(Mem.u8(m, UffdMsg.EVENT), m.get(U64, arg), m.get(U64, arg + 8), m.get(U64, arg + 16)));
            }
            return messages;
        }
    }

    /** poll(2) for a message; returns {@code revents} ({@link Libc#POLLIN} when one is queued), 0 on timeout. */
    public int poll(int timeoutMillis) {
        return Libc.poll(fd.get(), Libc.POLLIN, timeoutMillis);
    }

    /** Closes the fd; registered ranges are unregistered and waiting threads woken by the kernel. */
    @Override
    public void close() {
        fd.close();
    }

    /**
     * An ioctl that reports its progress in the field at {@code progress} (UFFDIO_COPY's {@code copy},
     * UFFDIO_ZEROPAGE's {@code zeropage}, UFFDIO_CONTINUE's {@code mapped}): returns it, or throws a {@link RangeException} that carries it
     * (a negative field, the kernel's -errno, counts as none done). {@code what} and {@code address} name
     * the range in the message, which is built only on failure.
     */
    private long progressIoctl(MemorySegment s, long request, String name, long progress, String what, long address,
            long length) {
        try {
            Libc.ioctl(fd.get(), request, s, name);
        } catch (ErrnoException e) {
            throw new RangeException(name, e.errno(), Math.max(s.get(U64, progress), 0),
                    what + " 0x" + Long.toHexString(address) + " length " + length);
        }
        return s.get(U64, progress);
    }

    private void rangeIoctl(long request, String name, long start, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(UffdioRange.LAYOUT);
            UffdioRange.write(s, start, length);
            Libc.ioctl(fd.get(), request, s, name);
        }
    }

    static {
        // The pagefault variant's three words start at arg; keep the Message mapping honest.
        if (UffdMsg.PAGEFAULT_FLAGS != UffdMsg.ARG || UffdMsg.PAGEFAULT_ADDRESS != UffdMsg.ARG + 8
                || UffdMsg.PAGEFAULT_PTID != UffdMsg.ARG + 16) {
            throw new AssertionError("uffd_msg pagefault layout changed");
        }
    }
}
