package dev.thaw.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.thaw.linux.internal.Native;
import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * Reads of memory from user space, made in native code. On a host with shadow paging (this project's PVM
 * machines) the first user-space access to a page the kernel installed (UFFDIO_COPY, a read(2)) costs a few
 * µs more, whoever makes it; accesses by the kernel (madvise(MADV_POPULATE_READ), write(2) from the page)
 * do not pay it for later ones. A Java thread reads here "in native" (the downcall is not critical), so a
 * fault it met would block it outside Java code; the caller still makes sure the pages are mapped and
 * readable, since a read of a page that is not is a SIGSEGV.
 */
public final class UserTouch {

    /** Read one byte (a glibc memchr reads at most one aligned vector, inside the page). */
    private static final MethodHandle MEMCHR = Native.downcallNoErrno("memchr",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG));

    private UserTouch() {}

    /**
     * Reads the first byte of each of the {@code count} pages of {@code pageSize} bytes from {@code address},
     * with one memchr(3) per page; returns how many of those bytes are zero (so the reads cannot be left out).
     */
    public static long readEach(long address, long count, long pageSize) {
        try {
            long zeros = 0;
            for (long i = 0; i < count; i++) {
                long at = address + i * pageSize;
                if ((long) MEMCHR.invokeExact(at, 0, 1L) == at) {
                    zeros++;
                }
            }
            return zeros;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
