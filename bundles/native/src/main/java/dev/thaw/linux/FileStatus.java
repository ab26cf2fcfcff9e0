package dev.thaw.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.thaw.linux.internal.Native;
import dev.thaw.linux.internal.Stat;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * What stat(2) and fstat(2) say of a file: which file it is ({@code st_dev}, {@code st_ino}), its names, its size,
 * the blocks allocated to it, and when its bytes ({@code st_mtim}) and its inode ({@code st_ctim}) last changed.
 * One call each, errno in the {@link ErrnoException}.
 *
 * @param device {@code st_dev}
 * @param inode {@code st_ino}
 * @param links {@code st_nlink}, the names it has (0 once removed)
 * @param size {@code st_size}, bytes
 * @param blocks {@code st_blocks}, 512-byte blocks allocated
 * @param modifiedNanos {@code st_mtim} in nanoseconds since the epoch
 * @param changedNanos {@code st_ctim} in nanoseconds since the epoch
 */
public record FileStatus(long device, long inode, long links, long size, long blocks, long modifiedNanos, long changedNanos) {

    private static final MethodHandle FSTAT = Native.downcall("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle STAT = Native.downcall("stat", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    /** fstat(2) of {@code fd}; {@code what} names the file in the error. */
    public static FileStatus of(int fd, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Stat.LAYOUT);
            MemorySegment cs = Native.captureState();
            if ((int) FSTAT.invokeExact(cs, fd, st) < 0) {
                throw new ErrnoException("fstat", Native.errno(cs), what);
            }
            return from(st);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** stat(2) of {@code path}, following symbolic links. */
    public static FileStatus of(String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Stat.LAYOUT);
            MemorySegment cs = Native.captureState();
            if ((int) STAT.invokeExact(cs, arena.allocateFrom(path), st) < 0) {
                throw new ErrnoException("stat", Native.errno(cs), path);
            }
            return from(st);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static FileStatus from(MemorySegment st) {
        return new FileStatus(st.get(JAVA_LONG, Stat.ST_DEV), st.get(JAVA_LONG, Stat.ST_INO), st.get(JAVA_LONG, Stat.ST_NLINK),
                st.get(JAVA_LONG, Stat.ST_SIZE),
                st.get(JAVA_LONG, Stat.ST_BLOCKS),
                st.get(JAVA_LONG, Stat.ST_MTIM_SEC) * 1_000_000_000L + st.get(JAVA_LONG, Stat.ST_MTIM_NSEC),
                st.get(JAVA_LONG, Stat.ST_CTIM_SEC) * 1_000_000_000L + st.get(JAVA_LONG, Stat.ST_CTIM_NSEC));
    }

    /** Whether {@code other} is the same file (device and inode), whatever its size or times. */
    public boolean sameFile(FileStatus other) {
        return device == other.device && inode == other.inode;
    }
}
