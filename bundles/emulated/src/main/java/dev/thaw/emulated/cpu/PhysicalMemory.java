package dev.thaw.emulated.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Guest physical RAM as every vCPU of one VM sees it: the runtime's RAM regions, each a host mapping.
 * Shared by all {@link Interpreter}s of a VM; thread-safe. Addresses outside every region are not RAM:
 * each interpreter sends those to its own {@link CpuBus} (MMIO).
 *
 * <p><b>First touch.</b> Guest RAM may be registered with userfaultfd, and a Java thread must never take
 * that fault in Java code (see {@link PageToucher}). So this class records, per 4 KiB page and shared
 * by all vCPUs, whether the page is known present for reading and for writing; before the first Java
 * access of a kind it calls {@link PageToucher#touch} (a write touch makes a page present for both).
 * The record only ever grows; {@link #forgetPresence()} clears it for a runtime that drops pages (for
 * example before a new lazy restore into the same mapping), after which every interpreter must flush its
 * TLB ({@link Interpreter#importState} does).
 *
 * <p><b>Ordering.</b> Aligned accesses are acquire loads and release stores (x86's TSO as far as one
 * location's neighbours are concerned); locked read-modify-writes are volatile compare-and-set.
 */
public final class PhysicalMemory {

    /**
     * One RAM region.
     *
     * @param guestBase guest physical address of the first byte (4 KiB aligned)
     * @param size bytes (a multiple of 4 KiB)
     * @param segment the host mapping, at least {@code size} bytes
     * @param hostAddress the host virtual address of {@code segment}'s first byte (what {@link PageToucher}
     *     receives, plus the page's offset)
     */
    public record RamRegion(long guestBase, long size, MemorySegment segment, long hostAddress) {
        public RamRegion {
            Objects.requireNonNull(segment, "segment");
            if ((guestBase & 0xfff) != 0 || (size & 0xfff) != 0 || size <= 0) {
                throw new IllegalArgumentException("RAM region must be whole 4 KiB pages: base 0x"
                        + Long.toHexString(guestBase) + " size 0x" + Long.toHexString(size));
            }
            if (segment.maxByteAlignment() < 8) {
                throw new IllegalArgumentException("RAM must be 8-byte aligned memory (native, or a long[]), not "
                        + segment);
            }
            if (segment.byteSize() < size) {
                throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes for a region of "
                        + size);
            }
        }
    }

    static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort S_U = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt I_U = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong L_U = ValueLayout.JAVA_LONG_UNALIGNED;
    static final VarHandle VH_B = ValueLayout.JAVA_BYTE.varHandle();
    static final VarHandle VH_S = ValueLayout.JAVA_SHORT.varHandle();
    static final VarHandle VH_I = ValueLayout.JAVA_INT.varHandle();
    static final VarHandle VH_L = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle CHUNKS = MethodHandles.arrayElementVarHandle(long[][].class);
    /** Presence bitmaps come in chunks of this many words (64 pages each: 16 MiB of RAM), made on first use. */
    private static final int CHUNK_WORDS = 64;
    private static final int CHUNK_PAGE_BITS = 12;

    private final Region[] regions;
    private final PageToucher toucher;

    /**
     * One region and its presence bitmaps (bit per page: known present for reading / for writing), in
     * chunks of {@link #CHUNK_WORDS} words made when a page of theirs is first touched: making a region
     * costs the same for any size.
     */
    static final class Region {
        final long base;
        final long end;
        final MemorySegment segment;
        final long hostAddress;
        final long[][] readable;
        final long[][] writable;

        Region(RamRegion r) {
            base = r.guestBase();
            end = r.guestBase() + r.size();
            segment = r.segment().asSlice(0, r.size());
            hostAddress = r.hostAddress();
            int chunks = (int) (((r.size() >>> 12) + (1L << CHUNK_PAGE_BITS) - 1) >>> CHUNK_PAGE_BITS);
            readable = new long[chunks][];
            writable = new long[chunks][];
        }
    }

    /** Guest RAM of {@code regions} (non-overlapping); {@code toucher} makes host pages present. */
    public PhysicalMemory(List<RamRegion> regions, PageToucher toucher) {
        this.toucher = Objects.requireNonNull(toucher, "toucher");
        List<RamRegion> sorted = new ArrayList<>(regions);
        sorted.sort(Comparator.comparingLong(RamRegion::guestBase));
        this.regions = new Region[sorted.size()];
        for (int i = 0; i < sorted.size(); i++) {
            this.regions[i] = new Region(sorted.get(i));
            if (i > 0 && this.regions[i - 1].end > this.regions[i].base) {
                throw new IllegalArgumentException("RAM regions overlap at 0x" + Long.toHexString(this.regions[i].base));
            }
        }
    }

    /** Forgets which pages are known present: each is touched again before its next first access. */
    public void forgetPresence() {
        for (Region r : regions) {
            for (int i = 0; i < r.readable.length; i++) {
                CHUNKS.setVolatile(r.readable, i, (long[]) null);
                CHUNKS.setVolatile(r.writable, i, (long[]) null);
            }
        }
    }

    /** Whether {@code address} is RAM. */
    public boolean isRam(long address) {
        return region(address) != null;
    }

    /** The region holding {@code pa}, or null (MMIO). */
    Region region(long pa) {
        Region[] rs = regions;
        for (int i = 0; i < rs.length; i++) {
            Region r = rs[i];
            if (pa >= r.base && pa < r.end) {
                return r;
            }
        }
        return null;
    }

    /**
     * Makes the page holding {@code pa} (in {@code r}) present for reading, or for writing if {@code write},
     * touching it natively the first time.
     */
    void ensurePresent(Region r, long pa, boolean write) {
        long page = (pa - r.base) >>> 12;
        int chunk = (int) (page >>> CHUNK_PAGE_BITS);
        int word = (int) (page >>> 6) & (CHUNK_WORDS - 1);
        long bit = 1L << page;
        long[] map = chunk(write ? r.writable : r.readable, chunk);
        if (((long) BITS.getOpaque(map, word) & bit) != 0) {
            return;
        }
        toucher.touch(r.hostAddress + (pa - r.base & ~0xfffL), write);
        BITS.getAndBitwiseOr(map, word, bit);
        if (write) {
            BITS.getAndBitwiseOr(chunk(r.readable, chunk), word, bit);
        }
    }

    /** Chunk {@code i} of a presence bitmap, made (once, whichever vCPU comes first) if missing. */
    private static long[] chunk(long[][] bitmap, int i) {
        long[] c = (long[]) CHUNKS.getAcquire(bitmap, i);
        if (c == null) {
            long[] made = new long[CHUNK_WORDS];
            c = (long[]) CHUNKS.compareAndExchangeRelease(bitmap, i, (long[]) null, made);
            if (c == null) {
                c = made;
            }
        }
        return c;
    }

    // ---- physical accesses for the page walker and slow paths (RAM only; callers handle MMIO) ----

    /** Reads {@code size} bytes at RAM address {@code pa} (not crossing a page). */
    long read(Region r, long pa, int size) {
        ensurePresent(r, pa, false);
        return load(r.segment, pa - r.base, size);
    }

    /** Writes {@code size} bytes at RAM address {@code pa} (not crossing a page). */
    void write(Region r, long pa, int size, long value) {
        ensurePresent(r, pa, true);
        store(r.segment, pa - r.base, size, value);
    }

    /** Atomically ORs {@code bits} into the aligned 8-byte word at RAM address {@code pa}, if it still holds {@code expect}. */
    boolean compareAndSet64(Region r, long pa, long expect, long update) {
        ensurePresent(r, pa, true);
        return VH_L.compareAndSet(r.segment, pa - r.base, expect, update);
    }

    // ---- host loads and stores with x86 ordering ----

    static long load(MemorySegment s, long off, int size) {
        switch (size) {
            case 1:
                return (byte) VH_B.getAcquire(s, off) & 0xffL;
            case 2:
                return ((off & 1) == 0 ? (short) VH_S.getAcquire(s, off) : s.get(S_U, off)) & 0xffffL;
            case 4:
                return ((off & 3) == 0 ? (int) VH_I.getAcquire(s, off) : s.get(I_U, off)) & 0xffff_ffffL;
            case 8:
                return (off & 7) == 0 ? (long) VH_L.getAcquire(s, off) : s.get(L_U, off);
            default:
                return loadBytes(s, off, size);
        }
    }

    /**
     * The odd sizes (3, 5, 6, 7 bytes): one part of an access split at a page boundary. Read byte by byte,
     * so nothing past the part is read (it may lie in another page, or past the region).
     */
    private static long loadBytes(MemorySegment s, long off, int size) {
        long v = 0;
        for (int k = size - 1; k >= 0; k--) {
            v = v << 8 | ((byte) VH_B.getAcquire(s, off + k) & 0xffL);
        }
        return v;
    }

    static long load64(MemorySegment s, long off) {
        return (off & 7) == 0 ? (long) VH_L.getAcquire(s, off) : s.get(L_U, off);
    }

    static void store(MemorySegment s, long off, int size, long v) {
        switch (size) {
            case 1 -> VH_B.setRelease(s, off, (byte) v);
            case 2 -> {
                if ((off & 1) == 0) {
                    VH_S.setRelease(s, off, (short) v);
                } else {
                    s.set(S_U, off, (short) v);
                }
            }
            case 4 -> {
                if ((off & 3) == 0) {
                    VH_I.setRelease(s, off, (int) v);
                } else {
                    s.set(I_U, off, (int) v);
                }
            }
            case 8 -> store64(s, off, v);
            default -> {
                // The odd sizes: one part of an access split at a page boundary; only its own bytes change.
                for (int k = 0; k < size; k++) {
                    VH_B.setRelease(s, off + k, (byte) (v >>> (k << 3)));
                }
            }
        }
    }

    static void store64(MemorySegment s, long off, long v) {
        if ((off & 7) == 0) {
            VH_L.setRelease(s, off, v);
        } else {
            s.set(L_U, off, v);
        }
    }

    /**
     * Compare-and-set of {@code size} bytes at {@code off}, which must lie in one aligned 8-byte word
     * (callers fall back to a global lock otherwise). Values are zero-extended.
     */
    static boolean cas(MemorySegment s, long off, int size, long expect, long update) {
        if (size == 8) {
            return VH_L.compareAndSet(s, off, expect, update);
        }
        if (size == 4 && (off & 3) == 0) {
            return VH_I.compareAndSet(s, off, (int) expect, (int) update);
        }
        // 1 or 2 bytes (or 4 misaligned within a word): CAS the containing aligned word
        long word = off & ~7L;
        int shift = (int) (off - word) * 8;
        long mask = (size == 8 ? -1L : (1L << (size * 8)) - 1) << shift;
        while (true) {
            long cur = (long) VH_L.getVolatile(s, word);
            if (((cur & mask) >>> shift) != (expect & (mask >>> shift))) {
                return false;
            }
            long next = (cur & ~mask) | ((update << shift) & mask);
            if (VH_L.compareAndSet(s, word, cur, next)) {
                return true;
            }
        }
    }

    /** Whether an access of {@code size} at {@code off} fits in one aligned 8-byte word (so {@link #cas} works). */
    static boolean casable(long off, int size) {
        return (off & ~7L) == ((off + size - 1) & ~7L);
    }
}
