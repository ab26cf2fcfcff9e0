package dev.thaw.linux;

import dev.thaw.linux.internal.Native;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Linux errno values Thaw names in code, and the names and descriptions of all others (from glibc's
 * {@code strerrorname_np}/{@code strerrordesc_np}, which are thread-safe and locale-free).
 */
public final class Errno {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;
    public static final int ETIMEDOUT = 110;

    private static final MethodHandle NAME = lookup("strerrorname_np");
    private static final MethodHandle DESCRIPTION = lookup("strerrordesc_np");

    private Errno() {}

    /** The symbolic name, e.g. {@code EINVAL}; {@code errno 4711} when unknown. */
    public static String name(int errno) {
        return call(NAME, errno).orElse("errno " + errno);
    }

    /** The description, e.g. {@code Invalid argument}; {@code unknown error} when unknown. */
    public static String description(int errno) {
        return call(DESCRIPTION, errno).orElse("unknown error");
    }

    private static Optional<String> call(MethodHandle handle, int errno) {
        if (handle == null) {
            return Optional.empty();
        }
        try {
            MemorySegment s = (MemorySegment) handle.invokeExact(errno);
            return s.address() == 0 ? Optional.empty() : Optional.of(Native.cString(s));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static MethodHandle lookup(String symbol) {
        return Native.find(symbol)
                .map(address -> Native.downcallNoErrno(address, FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT)))
                .orElse(null);
    }
}
