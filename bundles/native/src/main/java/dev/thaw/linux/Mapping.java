package dev.thaw.linux;

import dev.thaw.linux.internal.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A memory mapping and a segment over it. The segment lives in a shared arena that {@link #close()}
 * closes before unmapping, so a use after close throws instead of touching unmapped memory.
 */
public final class Mapping implements AutoCloseable {

    private final long address;
    private final long size;
    private final Arena arena;
    private final MemorySegment segment;
    private boolean closed;

    private Mapping(long address, long size) {
        this.address = address;
        this.size = size;
        this.arena = Arena.ofShared();
        this.segment = Native.segment(address, size, arena);
    }

    /**
     * Anonymous memory: {@code mmap(NULL, size, prot, flags | MAP_ANONYMOUS, -1, 0)}. With
     * {@code MAP_PRIVATE | MAP_NORESERVE} nothing is committed until touched.
     */
    public static Mapping anonymous(long size, int prot, int flags) {
        long a = Libc.mmap(0, size, prot, flags | Libc.MAP_ANONYMOUS, -1, 0);
        return wrap(a, size);
    }

    /** A mapping of {@code fd}: {@code mmap(NULL, size, prot, flags, fd, offset)}. */
    public static Mapping file(int fd, long size, int prot, int flags, long offset) {
        long a = Libc.mmap(0, size, prot, flags, fd, offset);
        return wrap(a, size);
    }

    private static Mapping wrap(long address, long size) {
        try {
            return new Mapping(address, size);
        } catch (RuntimeException | Error e) {
            Libc.munmap(address, size);
            throw e;
        }
    }

    public long address() {
        return address;
    }

    public long size() {
        return size;
    }

    /** The mapped bytes; invalid after {@link #close()}. */
    public MemorySegment segment() {
        return segment;
    }

    /** Invalidates the segment and unmaps. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        arena.close();
        closed = true;
        Libc.munmap(address, size);
    }
}
