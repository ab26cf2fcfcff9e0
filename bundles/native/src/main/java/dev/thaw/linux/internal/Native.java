package dev.thaw.linux.internal;

import dev.thaw.linux.NativeAccessDeniedException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Optional;

/**
 * The one place that makes restricted FFM calls (downcall handles, {@code reinterpret}); a refusal of
 * native access becomes a {@link NativeAccessDeniedException} naming the missing flag.
 */
@SuppressWarnings("restricted") // deliberate: this class is where Thaw's restricted calls live
public final class Native {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /**
     * One errno capture buffer per thread: a downcall writes errno there before returning, and the
     * same thread reads it right after, so a buffer is never shared. Freed with its thread.
     */
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private Native() {}

    /** A downcall to libc {@code symbol} whose first parameter is the errno capture segment. */
    public static MethodHandle downcall(String symbol, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = Arrays.copyOf(options, options.length + 1);
        all[options.length] = CAPTURE_ERRNO;
        return handle(require(symbol), descriptor, all);
    }

    /** A downcall that does not capture errno (functions that report errors otherwise). */
    public static MethodHandle downcallNoErrno(String symbol, FunctionDescriptor descriptor, Linker.Option... options) {
        return handle(require(symbol), descriptor, options);
    }

    public static MethodHandle downcallNoErrno(MemorySegment address, FunctionDescriptor descriptor, Linker.Option... options) {
        return handle(address, descriptor, options);
    }

    /**
     * The symbols of shared library {@code name} (a {@code dlopen} name such as {@code libunicorn.so.2}),
     * loaded for as long as {@code arena} is open.
     *
     * @throws IllegalArgumentException if the library cannot be loaded (it is not installed)
     */
    public static SymbolLookup library(String name, Arena arena) {
        try {
            return SymbolLookup.libraryLookup(name, arena);
        } catch (IllegalCallerException e) {
            throw new NativeAccessDeniedException(Native.class.getModule(), e);
        }
    }

    /** A function pointer that calls {@code target} from native code, valid while {@code arena} is open. */
    public static MemorySegment upcall(MethodHandle target, FunctionDescriptor descriptor, Arena arena) {
        try {
            return LINKER.upcallStub(target, descriptor, arena);
        } catch (IllegalCallerException e) {
            throw new NativeAccessDeniedException(Native.class.getModule(), e);
        }
    }

    public static Optional<MemorySegment> find(String symbol) {
        return LIBC.find(symbol);
    }

    /** The calling thread's errno capture buffer, to pass as a downcall's first argument. */
    public static MemorySegment captureState() {
        return CAPTURE.get();
    }

    /** errno as the last downcall on this thread left it in {@code capture}. */
    public static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /** A segment of {@code size} bytes at a native address (e.g. an mmap result), valid while {@code arena} is open. */
    public static MemorySegment segment(long address, long size, Arena arena) {
        try {
            return MemorySegment.ofAddress(address).reinterpret(size, arena, null);
        } catch (IllegalCallerException e) {
            throw new NativeAccessDeniedException(Native.class.getModule(), e);
        }
    }

    /** The NUL-terminated string a native call returned. */
    public static String cString(MemorySegment pointer) {
        try {
            return pointer.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (IllegalCallerException e) {
            throw new NativeAccessDeniedException(Native.class.getModule(), e);
        }
    }

    /** Rethrows what {@code invokeExact} threw: unchecked as is, anything else wrapped. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("native call failed", t);
    }

    private static MemorySegment require(String symbol) {
        return LIBC.find(symbol).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + symbol));
    }

    private static MethodHandle handle(MemorySegment address, FunctionDescriptor descriptor, Linker.Option... options) {
        try {
            return LINKER.downcallHandle(address, descriptor, options);
        } catch (IllegalCallerException e) {
            throw new NativeAccessDeniedException(Native.class.getModule(), e);
        }
    }
}
