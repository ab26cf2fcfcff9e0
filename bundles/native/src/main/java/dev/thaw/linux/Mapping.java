package dev.thaw.linux;

import dev.thaw.linux.internal.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A memory mapping and a segment over it. The segment lives in a shared arena that {@link #close()}
 * closes before unmapping, so a use after close throws instead of touching unmapped memory.
 */
public final class Mapping implements AutoCloseable {

    /** The gap {@link #isolated} keeps on each side, and the alignment of its start: a huge page. */
    public static final long ISOLATION = 2L << 20;

    private final long address;
    private final long size;
    /** What {@link #close()} unmaps: the mapping, or the reservation it lies in. */
    private final long reservedAddress;
    private final long reservedSize;
    private final Arena arena;
    private final MemorySegment segment;
    private boolean closed;

    private Mapping(long address, long size, long reservedAddress, long reservedSize) {
        this(address, size, reservedAddress, reservedSize, Arena.ofShared());
    }

    private Mapping(long address, long size, long reservedAddress, long reservedSize, Arena arena) {
        this.address = address;
        this.size = size;
        this.reservedAddress = reservedAddress;
        this.reservedSize = reservedSize;
        this.arena = arena;
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

    /**
     * Anonymous memory as {@link #anonymous}, alone in a reservation of its own: its start is aligned to
     * {@link #ISOLATION} (so huge pages fit from its first byte) and inaccessible gaps of at least that much lie on
     * both sides, so the kernel never merges it with a neighbour. Guest memory is mapped so: the kernel's figures
     * for it ({@code /proc/self/smaps}) are then its own, and a stray access past either end faults.
     */
    public static Mapping isolated(long size, int prot, int flags) {
        long reserved = size + 3 * ISOLATION; // a gap on each side, and room to align the start
        long base = Libc.mmap(0, reserved, Libc.PROT_NONE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        long start = (base + ISOLATION + ISOLATION - 1) & -ISOLATION;
        try {
            Libc.mmap(start, size, prot, flags | Libc.MAP_ANONYMOUS | Libc.MAP_FIXED, -1, 0);
            return new Mapping(start, size, base, reserved);
        } catch (RuntimeException | Error e) {
            Libc.munmap(base, reserved);
            throw e;
        }
    }

    /**
     * Anonymous memory as {@link #anonymous}, its start aligned to {@code alignment} (a power of two), for
     * example so that a huge page holds it from its first byte.
     */
    public static Mapping aligned(long size, long alignment, int prot, int flags) {
        return aligned(size, alignment, prot, flags, false);
    }

    /**
     * As {@link #aligned}, for the calling thread alone: its segment is confined to that thread, which must close
     * it. Closing a mapping shared between threads makes every thread of the JVM stop at a safe point once; a
     * staging buffer mapped and closed a few hundred times a second should not.
     */
    public static Mapping alignedForThisThread(long size, long alignment, int prot, int flags) {
        return aligned(size, alignment, prot, flags, true);
    }

    private static Mapping aligned(long size, long alignment, int prot, int flags, boolean confined) {
        long reserved = size + alignment;
        long base = Libc.mmap(0, reserved, prot, flags | Libc.MAP_ANONYMOUS, -1, 0);
        long start = (base + alignment - 1) & -alignment;
        long ours = base; // from here to the end of the reservation is still this call's
        long end = base + reserved;
        try {
            if (start > base) {
                Libc.munmap(base, start - base);
                ours = start;
            }
            if (start + size < end) {
                Libc.munmap(start + size, end - start - size);
                end = start + size;
            }
            return new Mapping(start, size, start, size, confined ? Arena.ofConfined() : Arena.ofShared());
        } catch (RuntimeException | Error e) {
            Libc.munmap(ours, end - ours); // only what is still ours: a range given back may be someone else's now
            throw e;
        }
    }

    /** A mapping of {@code fd}: {@code mmap(NULL, size, prot, flags, fd, offset)}. */
    public static Mapping file(int fd, long size, int prot, int flags, long offset) {
        long a = Libc.mmap(0, size, prot, flags, fd, offset);
        return wrap(a, size);
    }

    private static Mapping wrap(long address, long size) {
        try {
            return new Mapping(address, size, address, size);
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
        Libc.munmap(reservedAddress, reservedSize);
    }
}
