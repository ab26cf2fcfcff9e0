package dev.thaw.linux.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.thaw.linux.internal.Native;
import dev.thaw.linux.internal.UcX86Mmr;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

/**
 * One Unicorn 2 engine (QEMU's TCG CPU as a library, {@code libunicorn.so.2}): a thin layer over the C
 * API with no policy. Each method makes one call, checks its {@code uc_err} and throws an
 * {@link UnicornException} carrying {@code uc_strerror}'s text. Constant names are those of
 * {@code unicorn/unicorn.h}; x86 register ids are in {@link UcX86}. Not thread-safe: an engine, its
 * interrupt hook and its arena belong to the thread that opened it.
 */
public final class Unicorn implements AutoCloseable {

    /** The shared library, as Debian's {@code libunicorn2} installs it. */
    public static final String LIBRARY = "libunicorn.so.2";
    /** What to run when {@link #LIBRARY} is missing. */
    public static final String INSTALL = "apt-get install libunicorn2";

    public static final int UC_ARCH_X86 = 4;
    public static final int UC_MODE_64 = 1 << 3;
    public static final int UC_PROT_READ = 1;
    public static final int UC_PROT_WRITE = 2;
    public static final int UC_PROT_EXEC = 4;
    public static final int UC_PROT_ALL = 7;
    public static final int UC_HOOK_INTR = 1;

    public static final int UC_ERR_OK = 0;
    public static final int UC_ERR_READ_UNMAPPED = 6;
    public static final int UC_ERR_WRITE_UNMAPPED = 7;
    public static final int UC_ERR_FETCH_UNMAPPED = 8;
    public static final int UC_ERR_INSN_INVALID = 10;
    public static final int UC_ERR_ARG = 15;
    public static final int UC_ERR_EXCEPTION = 21;

    // uc_ctl control words: UC_CTL(type, nr, rw) = type | nr << 26 | rw << 30
    public static final int UC_CTL_IO_WRITE = 1;
    public static final int UC_CTL_UC_USE_EXITS = 4;
    public static final int UC_CTL_UC_EXITS = 6;
    public static final int UC_CTL_CPU_MODEL = 7;
    public static final int UC_CTL_TB_REMOVE_CACHE = 9;

    private static int ctlWrite(int type, int nr) {
        return type | nr << 26 | UC_CTL_IO_WRITE << 30;
    }

    /** The library, loaded once for the life of the JVM, or why it could not be. */
    private static final class Library {
        static final SymbolLookup LOOKUP;
        static final UnicornUnavailableException PROBLEM;

        static {
            SymbolLookup lookup = null;
            UnicornUnavailableException problem = null;
            try {
                lookup = load(LIBRARY);
            } catch (UnicornUnavailableException e) {
                problem = e;
            }
            LOOKUP = lookup;
            PROBLEM = problem;
        }
    }

    /**
     * The downcalls, bound on first use: only after {@link #requireLibrary()} succeeded, so a missing library
     * fails with its one-line reason, not a class initialization error.
     */
    private static final class Lib {
        static final MethodHandle VERSION = h("uc_version", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle STRERROR = h("uc_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final MethodHandle OPEN = h("uc_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle CLOSE = h("uc_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle MEM_MAP = h("uc_mem_map",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
        static final MethodHandle MEM_MAP_PTR = h("uc_mem_map_ptr",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
        static final MethodHandle MEM_WRITE = h("uc_mem_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
        static final MethodHandle MEM_READ = h("uc_mem_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
        static final MethodHandle REG_WRITE = h("uc_reg_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        static final MethodHandle REG_READ = h("uc_reg_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        static final MethodHandle REG_WRITE_BATCH = h("uc_reg_write_batch",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle REG_READ_BATCH = h("uc_reg_read_batch",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle EMU_START = h("uc_emu_start",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        static final MethodHandle EMU_STOP = h("uc_emu_stop", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // uc_hook_add(uc, hh, type, callback, user_data, begin, end, ...): no variadic part for UC_HOOK_INTR
        static final MethodHandle HOOK_ADD = h("uc_hook_add",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(7));
        // uc_ctl(uc, control, ...) in its three shapes used here
        static final MethodHandle CTL_LONG_LONG = h("uc_ctl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
        static final MethodHandle CTL_INT = h("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        static final MethodHandle CTL_PTR_LEN = h("uc_ctl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG), Linker.Option.firstVariadicArg(2));
        static final MethodHandle CONTEXT_ALLOC = h("uc_context_alloc",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle CONTEXT_SAVE = h("uc_context_save", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle CONTEXT_RESTORE = h("uc_context_restore",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle CONTEXT_FREE = h("uc_context_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));

        static final FunctionDescriptor HOOK_INTR_DESCRIPTOR = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS);

        private static MethodHandle h(String name, FunctionDescriptor fd, Linker.Option... options) {
            MemorySegment symbol = Library.LOOKUP.find(name)
                    .orElseThrow(() -> new UnicornUnavailableException(LIBRARY + " has no symbol " + name
                            + ": it is not Unicorn 2 (" + INSTALL + ")", null));
            return Native.downcallNoErrno(symbol, fd, options);
        }
    }

    /**
     * Loads {@code library} for the life of the JVM.
     *
     * @throws UnicornUnavailableException if it cannot be loaded: one line with the command that installs it
     */
    static SymbolLookup load(String library) {
        try {
            return Native.library(library, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new UnicornUnavailableException(library + " (Unicorn 2) is not installed: as root, run `" + INSTALL + "`", e);
        }
    }

    /** Empty when {@link #LIBRARY} loads here; else one line saying why not, naming what to install. */
    public static Optional<String> unavailableReason() {
        return Optional.ofNullable(Library.PROBLEM).map(Throwable::getMessage);
    }

    /** @throws UnicornUnavailableException where {@link #unavailableReason()} is not empty */
    private static void requireLibrary() {
        if (Library.PROBLEM != null) {
            throw new UnicornUnavailableException(Library.PROBLEM.getMessage(), Library.PROBLEM.getCause());
        }
    }

    private final Arena arena;
    private final MemorySegment uc;
    private final MemorySegment scratch;
    private int lastInterrupt = -1;

    private Unicorn(Arena arena, MemorySegment uc) {
        this.arena = arena;
        this.uc = uc;
        this.scratch = arena.allocate(UcX86Mmr.LAYOUT.byteSize(), 16);
    }

    /**
     * {@code uc_open(arch, mode)}; the engine owns a confined arena closed with it.
     *
     * @throws UnicornUnavailableException where the library is missing
     */
    public static Unicorn open(int arch, int mode) {
        requireLibrary();
        Arena arena = Arena.ofConfined();
        try {
            MemorySegment out = arena.allocate(ADDRESS);
            check("uc_open", (int) Lib.OPEN.invokeExact(arch, mode, out));
            return new Unicorn(arena, out.get(ADDRESS, 0));
        } catch (Throwable t) {
            arena.close();
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_version}: major << 24 | minor << 16 | patch << 8 | extra (0x020001ff for 2.0.1). */
    public static int version() {
        requireLibrary();
        try {
            return (int) Lib.VERSION.invokeExact(MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_strerror(err)}. */
    public static String strerror(int err) {
        requireLibrary();
        try {
            return Native.cString((MemorySegment) Lib.STRERROR.invokeExact(err));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_ctl(UC_CTL_CPU_MODEL)}: only before any other call on a fresh engine. */
    public void setCpuModel(int model) {
        try {
            check("uc_ctl(UC_CTL_CPU_MODEL)", (int) Lib.CTL_INT.invokeExact(uc, ctlWrite(UC_CTL_CPU_MODEL, 1), model));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_mem_map}: {@code size} bytes of Unicorn-owned memory at {@code address}. */
    public void memMap(long address, long size, int perms) {
        try {
            check("uc_mem_map", (int) Lib.MEM_MAP.invokeExact(uc, address, size, perms));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * {@code uc_mem_map_ptr}: guest memory at {@code address} backed by {@code host} (native, page-aligned,
     * whole pages), which must stay valid while the engine is open.
     */
    public void memMapPtr(long address, MemorySegment host, int perms) {
        try {
            check("uc_mem_map_ptr", (int) Lib.MEM_MAP_PTR.invokeExact(uc, address, host.byteSize(), perms, host));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_mem_write} of all of {@code bytes} at {@code address}. */
    public void memWrite(long address, MemorySegment bytes) {
        try {
            check("uc_mem_write", (int) Lib.MEM_WRITE.invokeExact(uc, address, bytes, bytes.byteSize()));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_mem_read} into all of {@code into} from {@code address}. */
    public void memRead(long address, MemorySegment into) {
        try {
            check("uc_mem_read", (int) Lib.MEM_READ.invokeExact(uc, address, into, into.byteSize()));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_reg_write} of a 64-bit register. */
    public void regWrite(int reg, long value) {
        try {
            scratch.set(JAVA_LONG, 0, value);
            check("uc_reg_write", (int) Lib.REG_WRITE.invokeExact(uc, reg, scratch));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_reg_read} of a register into 8 zeroed bytes (narrow registers read zero-extended). */
    public long regRead(int reg) {
        try {
            scratch.set(JAVA_LONG, 0, 0);
            check("uc_reg_read", (int) Lib.REG_READ.invokeExact(uc, reg, scratch));
            return scratch.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * {@code uc_reg_write} of a {@code uc_x86_mmr}: a descriptor table register ({@link UcX86#UC_X86_REG_GDTR},
     * {@link UcX86#UC_X86_REG_IDTR}; their selector and flags are unused) or LDTR/TR.
     */
    public void regWriteMmr(int reg, int selector, long base, int limit, int flags) {
        try {
            UcX86Mmr.write(scratch, selector, base, limit, flags);
            check("uc_reg_write", (int) Lib.REG_WRITE.invokeExact(uc, reg, scratch));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * A reusable register batch: ids and one 8-byte slot per register in this engine's arena, for
     * {@code uc_reg_read_batch} / {@code uc_reg_write_batch} (one downcall for all registers).
     */
    public final class RegBatch {
        private final int count;
        private final MemorySegment ids;
        private final MemorySegment values;
        private final MemorySegment pointers;

        private RegBatch(int[] regs) {
            count = regs.length;
            ids = arena.allocate(JAVA_INT, count);
            values = arena.allocate(JAVA_LONG, count);
            pointers = arena.allocate(ADDRESS, count);
            for (int i = 0; i < count; i++) {
                ids.setAtIndex(JAVA_INT, i, regs[i]);
                pointers.setAtIndex(ADDRESS, i, values.asSlice(8L * i, 8));
            }
        }

        /** {@code uc_reg_read_batch} into {@code out} (length at least the batch's). */
        public void read(long[] out) {
            try {
                values.fill((byte) 0);
                check("uc_reg_read_batch", (int) Lib.REG_READ_BATCH.invokeExact(uc, ids, pointers, count));
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
            for (int i = 0; i < count; i++) {
                out[i] = values.getAtIndex(JAVA_LONG, i);
            }
        }

        /** {@code uc_reg_write_batch} from {@code in}. */
        public void write(long[] in) {
            for (int i = 0; i < count; i++) {
                values.setAtIndex(JAVA_LONG, i, in[i]);
            }
            try {
                check("uc_reg_write_batch", (int) Lib.REG_WRITE_BATCH.invokeExact(uc, ids, pointers, count));
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
        }
    }

    /** A batch of these registers, in this order. */
    public RegBatch batch(int... regs) {
        return new RegBatch(regs);
    }

    /**
     * Installs a {@code UC_HOOK_INTR} hook (an upcall) that records the vector of every interrupt or
     * exception and stops emulation with {@code uc_emu_stop}: Unicorn hands exceptions to this hook
     * instead of the IDT. Read the vector with {@link #takeInterrupt()}.
     */
    public void hookInterruptsToStop() {
        try {
            MethodHandle target = MethodHandles.lookup()
                    .findVirtual(Unicorn.class, "onInterrupt",
                            MethodType.methodType(void.class, MemorySegment.class, int.class, MemorySegment.class))
                    .bindTo(this);
            MemorySegment stub = Native.upcall(target, Lib.HOOK_INTR_DESCRIPTOR, arena);
            MemorySegment handle = arena.allocate(JAVA_LONG);
            check("uc_hook_add(UC_HOOK_INTR)", (int) Lib.HOOK_ADD.invokeExact(uc, handle, UC_HOOK_INTR, stub,
                    MemorySegment.NULL, 1L, 0L));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @SuppressWarnings("unused") // the upcall target; must not throw into native code
    private void onInterrupt(MemorySegment engine, int vector, MemorySegment userData) {
        lastInterrupt = vector;
        try {
            int err = (int) Lib.EMU_STOP.invokeExact(uc);
            if (err != UC_ERR_OK) {
                lastInterrupt = -2 - err; // reported by takeInterrupt's caller as a failed stop
            }
        } catch (Throwable t) {
            lastInterrupt = -1000;
        }
    }

    /** The vector the hook saw since the last call (or -1), clearing it. */
    public int takeInterrupt() {
        int v = lastInterrupt;
        lastInterrupt = -1;
        if (v < -1) {
            throw new IllegalStateException("uc_emu_stop failed inside the interrupt hook (" + v + ")");
        }
        return v;
    }

    /**
     * {@code uc_emu_start(begin, until, timeout, count)}. Returns the {@code uc_err} instead of
     * throwing when emulation stopped on a guest condition (invalid instruction, unmapped access, an
     * unhooked exception); throws for anything else.
     */
    public int emuStart(long begin, long until, long timeoutMicros, long count) {
        int err;
        try {
            err = (int) Lib.EMU_START.invokeExact(uc, begin, until, timeoutMicros, count);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (err == UC_ERR_OK || err == UC_ERR_INSN_INVALID || err == UC_ERR_EXCEPTION
                || (err >= UC_ERR_READ_UNMAPPED && err <= UC_ERR_FETCH_UNMAPPED)) {
            return err;
        }
        throw new UnicornException("uc_emu_start", err);
    }

    /** {@code uc_ctl_exits_enable}: from now on {@link #setExits} decides where emulation stops. */
    public void enableExits() {
        try {
            check("uc_ctl(UC_CTL_UC_USE_EXITS)", (int) Lib.CTL_INT.invokeExact(uc, ctlWrite(UC_CTL_UC_USE_EXITS, 1), 1));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_ctl_set_exits}: emulation stops before executing any of the first {@code count} addresses. */
    public void setExits(MemorySegment exits, int count) {
        try {
            check("uc_ctl(UC_CTL_UC_EXITS)",
                    (int) Lib.CTL_PTR_LEN.invokeExact(uc, ctlWrite(UC_CTL_UC_EXITS, 2), exits, (long) count));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * {@code uc_ctl_remove_cache(begin, end)}: drops the translation blocks of guest code in [begin, end)
     * (code memory was rewritten behind Unicorn's back). Much cheaper than {@code uc_ctl_flush_tb}, which
     * takes 40 ms to seconds here.
     */
    public void removeTranslations(long begin, long end) {
        try {
            check("uc_ctl(UC_CTL_TB_REMOVE_CACHE)",
                    (int) Lib.CTL_LONG_LONG.invokeExact(uc, ctlWrite(UC_CTL_TB_REMOVE_CACHE, 2), begin, end));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_context_alloc} + {@code uc_context_save}: the whole CPU state, to restore later. */
    public MemorySegment saveContext() {
        try {
            MemorySegment out = arena.allocate(ADDRESS);
            check("uc_context_alloc", (int) Lib.CONTEXT_ALLOC.invokeExact(uc, out));
            MemorySegment ctx = out.get(ADDRESS, 0);
            check("uc_context_save", (int) Lib.CONTEXT_SAVE.invokeExact(uc, ctx));
            return ctx;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_context_restore}. */
    public void restoreContext(MemorySegment ctx) {
        try {
            check("uc_context_restore", (int) Lib.CONTEXT_RESTORE.invokeExact(uc, ctx));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code uc_context_free}. */
    public static void freeContext(MemorySegment ctx) {
        try {
            check("uc_context_free", (int) Lib.CONTEXT_FREE.invokeExact(ctx));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** This engine's arena: memory that lives exactly as long as the engine. */
    public Arena arena() {
        return arena;
    }

    /** {@code uc_close}, then the arena (hook stub, register batches, mapped memory allocated in it). */
    @Override
    public void close() {
        try {
            check("uc_close", (int) Lib.CLOSE.invokeExact(uc));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            arena.close();
        }
    }

    private static void check(String call, int err) {
        if (err != UC_ERR_OK) {
            throw new UnicornException(call, err);
        }
    }
}
