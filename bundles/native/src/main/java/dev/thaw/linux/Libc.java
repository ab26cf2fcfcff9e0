package dev.thaw.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.thaw.linux.internal.Native;
import dev.thaw.linux.internal.PollFd;
import dev.thaw.linux.internal.SigsetT;
import dev.thaw.linux.internal.Timespec;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Thin wrappers of the libc functions Thaw uses. Each makes one call, captures errno and throws an
 * {@link ErrnoException} naming the call on failure. Constant names are the C macro names (checked
 * against the headers by the layout test).
 */
public final class Libc {

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;

    public static final int MADV_DONTNEED = 4;
    /** Frees the pages and their backing store (shmem: the file's pages) of a shared mapping. */
    public static final int MADV_REMOVE = 9;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_NOHUGEPAGE = 15;
    public static final int MADV_DONTDUMP = 16;
    /** Fault the range in for reading, as a load would, but with the caller "in native" (Linux 5.14). */
    public static final int MADV_POPULATE_READ = 22;
    /** Fault the range in for writing, as a store would, but with the caller "in native" (Linux 5.14). */
    public static final int MADV_POPULATE_WRITE = 23;

    public static final int POLLIN = 0x001;
    public static final int POLLOUT = 0x004;
    public static final int POLLERR = 0x008;
    public static final int POLLHUP = 0x010;

    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGURG = 23;
    public static final int SIG_BLOCK = 0;
    public static final int SIG_UNBLOCK = 1;
    public static final int SIG_SETMASK = 2;

    public static final int _SC_PAGESIZE = 30;

    /** The userfaultfd(2) system call number on x86-64. */
    public static final long SYS_userfaultfd = 323;

    private static final MethodHandle OPEN = Native.downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = Native.downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle MKFIFO = Native.downcall("mkfifo", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle READ = Native.downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = Native.downcall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PREAD = Native.downcall("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = Native.downcall("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MMAP = Native.downcall("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = Native.downcall("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MPROTECT = Native.downcall("mprotect",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MADVISE = Native.downcall("madvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle IOCTL_PTR = Native.downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = Native.downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle EVENTFD = Native.downcall("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL = Native.downcall("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SYSCALL_INT = Native.downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle GETTID = Native.downcallNoErrno("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPID = Native.downcallNoErrno("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle TGKILL = Native.downcall("tgkill",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle PTHREAD_SIGMASK = Native.downcallNoErrno("pthread_sigmask",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGTIMEDWAIT = Native.downcall("sigtimedwait",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle SYSCONF = Native.downcall("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));

    private Libc() {}

    /** open(2); returns the new fd. */
    public static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Native.captureState();
            int fd = (int) OPEN.invokeExact(cs, arena.allocateFrom(path), flags, 0);
            if (fd < 0) {
                throw new ErrnoException("open", Native.errno(cs), path);
            }
            return fd;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** mkfifo(3): a named pipe at {@code path} with permission bits {@code mode} (less the umask). */
    public static void mkfifo(String path, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Native.captureState();
            if ((int) MKFIFO.invokeExact(cs, arena.allocateFrom(path), mode) < 0) {
                throw new ErrnoException("mkfifo", Native.errno(cs), path);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** close(2). */
    public static void close(int fd) {
        try {
            MemorySegment cs = Native.captureState();
            if ((int) CLOSE.invokeExact(cs, fd) < 0) {
                throw new ErrnoException("close", Native.errno(cs), "fd " + fd);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** read(2) into {@code buffer}; returns the bytes read (0 at end of file). */
    public static long read(int fd, MemorySegment buffer) {
        try {
            MemorySegment cs = Native.captureState();
            long n = (long) READ.invokeExact(cs, fd, buffer, buffer.byteSize());
            if (n < 0) {
                throw new ErrnoException("read", Native.errno(cs), "fd " + fd);
            }
            return n;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** write(2) of {@code buffer}; returns the bytes written. */
    public static long write(int fd, MemorySegment buffer) {
        try {
            MemorySegment cs = Native.captureState();
            long n = (long) WRITE.invokeExact(cs, fd, buffer, buffer.byteSize());
            if (n < 0) {
                throw new ErrnoException("write", Native.errno(cs), "fd " + fd);
            }
            return n;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** pread(2) into {@code buffer} from file {@code offset}; returns the bytes read. */
    public static long pread(int fd, MemorySegment buffer, long offset) {
        try {
            MemorySegment cs = Native.captureState();
            long n = (long) PREAD.invokeExact(cs, fd, buffer, buffer.byteSize(), offset);
            if (n < 0) {
                throw new ErrnoException("pread", Native.errno(cs), "fd " + fd + " offset " + offset);
            }
            return n;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** pwrite(2) of {@code buffer} at file {@code offset}; returns the bytes written. */
    public static long pwrite(int fd, MemorySegment buffer, long offset) {
        try {
            MemorySegment cs = Native.captureState();
            long n = (long) PWRITE.invokeExact(cs, fd, buffer, buffer.byteSize(), offset);
            if (n < 0) {
                throw new ErrnoException("pwrite", Native.errno(cs), "fd " + fd + " offset " + offset);
            }
            return n;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** mmap(2); returns the mapping's address. Prefer {@link Mapping}, which also unmaps. */
    public static long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        try {
            MemorySegment cs = Native.captureState();
            long a = (long) MMAP.invokeExact(cs, address, length, prot, flags, fd, offset);
            if (a == -1L) {
                throw new ErrnoException("mmap", Native.errno(cs), "length " + length + " prot 0x"
                        + Integer.toHexString(prot) + " flags 0x" + Integer.toHexString(flags) + " fd " + fd);
            }
            return a;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** munmap(2). */
    public static void munmap(long address, long length) {
        try {
            MemorySegment cs = Native.captureState();
            if ((int) MUNMAP.invokeExact(cs, address, length) < 0) {
                throw new ErrnoException("munmap", Native.errno(cs),
                        "address 0x" + Long.toHexString(address) + " length " + length);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** mprotect(2) of {@code [address, address+length)} to {@code prot} ({@code PROT_*}). */
    public static void mprotect(long address, long length, int prot) {
        try {
            MemorySegment cs = Native.captureState();
            if ((int) MPROTECT.invokeExact(cs, address, length, prot) < 0) {
                throw new ErrnoException("mprotect", Native.errno(cs),
                        "address 0x" + Long.toHexString(address) + " length " + length + " prot " + prot);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** madvise(2). */
    public static void madvise(long address, long length, int advice) {
        try {
            MemorySegment cs = Native.captureState();
            if ((int) MADVISE.invokeExact(cs, address, length, advice) < 0) {
                throw new ErrnoException("madvise", Native.errno(cs), "advice " + advice);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** ioctl(2) with a pointer argument; {@code name} (the request's macro name) goes into errors. */
    public static int ioctl(int fd, long request, MemorySegment argument, String name) {
        try {
            MemorySegment cs = Native.captureState();
            int r = (int) IOCTL_PTR.invokeExact(cs, fd, request, argument);
            if (r < 0) {
                throw new ErrnoException(name, Native.errno(cs));
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** ioctl(2) with an integer argument (or none: pass 0). */
    public static int ioctl(int fd, long request, long argument, String name) {
        try {
            MemorySegment cs = Native.captureState();
            int r = (int) IOCTL_LONG.invokeExact(cs, fd, request, argument);
            if (r < 0) {
                throw new ErrnoException(name, Native.errno(cs));
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * ioctl(2) with an integer argument that returns -errno instead of throwing, for the one call
     * whose failure is routine: KVM_RUN returns EINTR whenever a signal or immediate_exit stops it.
     */
    public static int ioctlOrErrno(int fd, long request, long argument) {
        try {
            MemorySegment cs = Native.captureState();
            int r = (int) IOCTL_LONG.invokeExact(cs, fd, request, argument);
            return r < 0 ? -Native.errno(cs) : r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** eventfd(2); returns the new fd. */
    public static int eventfd(int initialValue, int flags) {
        try {
            MemorySegment cs = Native.captureState();
            int fd = (int) EVENTFD.invokeExact(cs, initialValue, flags);
            if (fd < 0) {
                throw new ErrnoException("eventfd", Native.errno(cs));
            }
            return fd;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** poll(2) on one fd; returns its {@code revents}, 0 on timeout. */
    public static int poll(int fd, int events, int timeoutMillis) {
        return poll(new int[] {fd}, new int[] {events}, timeoutMillis)[0];
    }

    /**
     * poll(2) on several fds; returns each fd's {@code revents} (all 0 on timeout). A signal that interrupts
     * the wait (EINTR; the JVM's own thread sampling sends them) does not end it: the call goes on for the
     * rest of the timeout.
     */
    public static int[] poll(int[] fds, int[] events, int timeoutMillis) {
        if (fds.length != events.length) {
            throw new IllegalArgumentException(fds.length + " fds but " + events.length + " event masks");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(PollFd.LAYOUT, fds.length);
            long stride = PollFd.LAYOUT.byteSize();
            for (int i = 0; i < fds.length; i++) {
                set.set(JAVA_INT, i * stride + PollFd.FD, fds[i]);
                set.set(JAVA_SHORT, i * stride + PollFd.EVENTS, (short) events[i]);
            }
            MemorySegment cs = Native.captureState();
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            int wait = timeoutMillis;
            int r;
            while ((r = (int) POLL.invokeExact(cs, set, (long) fds.length, wait)) < 0) {
                int errno = Native.errno(cs);
                if (errno != Errno.EINTR) {
                    throw new ErrnoException("poll", errno);
                }
                if (timeoutMillis > 0) {
                    wait = (int) Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000);
                }
            }
            int[] revents = new int[fds.length];
            for (int i = 0; i < fds.length; i++) {
                revents[i] = Short.toUnsignedInt(set.get(JAVA_SHORT, i * stride + PollFd.REVENTS));
            }
            return revents;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** userfaultfd(2) (through syscall(2)); returns the new fd. */
    public static int userfaultfd(int flags) {
        try {
            MemorySegment cs = Native.captureState();
            long fd = (long) SYSCALL_INT.invokeExact(cs, SYS_userfaultfd, flags);
            if (fd < 0) {
                throw new ErrnoException("userfaultfd", Native.errno(cs));
            }
            return (int) fd;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** gettid(2): the calling thread's kernel thread id. */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** getpid(2). */
    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** tgkill(2): sends {@code signal} to thread {@code tid} of process {@code pid}. */
    public static void tgkill(int pid, int tid, int signal) {
        try {
            MemorySegment cs = Native.captureState();
            if ((int) TGKILL.invokeExact(cs, pid, tid, signal) < 0) {
                throw new ErrnoException("tgkill", Native.errno(cs), "tid " + tid + " signal " + signal);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * pthread_sigmask(3) for the calling thread. Sets are {@code long}s: bit n-1 is signal n (see
     * {@link #sigbit(int)}). Returns the previous mask.
     */
    public static long pthreadSigmask(int how, long set) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = SigsetT.allocate(arena, set);
            MemorySegment old = SigsetT.allocate(arena, 0);
            int error = (int) PTHREAD_SIGMASK.invokeExact(how, in, old);
            if (error != 0) {
                // pthread functions return the error number instead of setting errno.
                throw new ErrnoException("pthread_sigmask", error);
            }
            return SigsetT.read(old);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * sigtimedwait(2) for the signals in {@code set} (which must be blocked), waiting at most
     * {@code timeoutNanos} (0: just poll). Returns the signal taken, or 0 when none was pending in time
     * (the EAGAIN outcome).
     */
    public static int sigtimedwait(long set, long timeoutNanos) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Native.captureState();
            int sig = (int) SIGTIMEDWAIT.invokeExact(cs, SigsetT.allocate(arena, set), MemorySegment.NULL,
                    Timespec.allocate(arena, timeoutNanos));
            if (sig < 0) {
                int errno = Native.errno(cs);
                if (errno == Errno.EAGAIN) {
                    return 0;
                }
                throw new ErrnoException("sigtimedwait", errno);
            }
            return sig;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** sysconf(3). */
    public static long sysconf(int name) {
        try {
            MemorySegment cs = Native.captureState();
            long v = (long) SYSCONF.invokeExact(cs, name);
            if (v < 0) {
                throw new ErrnoException("sysconf", Native.errno(cs), "name " + name);
            }
            return v;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The page size, sysconf(_SC_PAGESIZE). */
    public static long pageSize() {
        return sysconf(_SC_PAGESIZE);
    }

    /** The bit of signal {@code signal} in a set. */
    public static long sigbit(int signal) {
        if (signal < 1 || signal > 64) {
            throw new IllegalArgumentException("signal " + signal + " is outside 1..64");
        }
        return 1L << (signal - 1);
    }
}
