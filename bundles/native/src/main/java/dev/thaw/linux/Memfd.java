package dev.thaw.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.thaw.linux.internal.Native;
import dev.thaw.linux.internal.OwnedFd;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * An anonymous shared-memory file, memfd_create(2): shmem that several mappings can share, and whose
 * pages userfaultfd can map with UFFDIO_CONTINUE. Thin wrappers, one call each, errno in the
 * {@link ErrnoException}. Its two downcalls live here rather than in {@link Libc}, which is at its size.
 */
public final class Memfd implements AutoCloseable {

    /** {@code MFD_CLOEXEC}. */
    public static final int MFD_CLOEXEC = 0x0001;
    /** {@code MFD_ALLOW_SEALING}. */
    public static final int MFD_ALLOW_SEALING = 0x0002;

    private static final MethodHandle MEMFD_CREATE = Native.downcall("memfd_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE = Native.downcall("ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));

    private final OwnedFd fd;
    private final String name;

    private Memfd(int fd, String name) {
        this.fd = new OwnedFd(fd);
        this.name = name;
    }

    /** memfd_create(2) of an empty file named {@code name} (shown in /proc as {@code memfd:name}), {@code MFD_*} flags. */
    public static Memfd create(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Native.captureState();
            int fd = (int) MEMFD_CREATE.invokeExact(cs, arena.allocateFrom(name), flags);
            if (fd < 0) {
                throw new ErrnoException("memfd_create", Native.errno(cs), name);
            }
            return new Memfd(fd, name);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public int fd() {
        return fd.get();
    }

    /** ftruncate(2): the file's size becomes {@code size} bytes; growing it allocates nothing (holes). */
    public void truncate(long size) {
        try {
            MemorySegment cs = Native.captureState();
            if ((int) FTRUNCATE.invokeExact(cs, fd.get(), size) < 0) {
                throw new ErrnoException("ftruncate", Native.errno(cs), "memfd:" + name + " size " + size);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** fstat(2)'s {@code st_size}: the file's size in bytes. */
    public long size() {
        return FileStatus.of(fd.get(), "memfd:" + name).size();
    }

    /** fstat(2)'s {@code st_blocks} times 512: the memory the file's pages take now (holes take none). */
    public long allocatedBytes() {
        return FileStatus.of(fd.get(), "memfd:" + name).blocks() * 512;
    }

    /** Closes the fd; the file lives on while a mapping of it does. Idempotent. */
    @Override
    public void close() {
        fd.close();
    }
}
