package dev.thaw.emulated.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Linear memory of one vCPU: a direct-mapped TLB over {@link PageWalker}, RAM through
 * {@link PhysicalMemory} and everything else through the {@link CpuBus} (MMIO).
 *
 * <p>A TLB entry maps one linear 4 KiB page for one privilege (the key is the page number and a user bit)
 * to a host segment and offset. It has three tags: readable, writable and executable. The writable tag is
 * set only by a walk for a write (which set the dirty bit and made the host page present for writing), so
 * a tag hit means "access allowed, A/D done, host page present": the fast path is a tag compare and a
 * load or store. MMIO pages are never entered. Accesses crossing a page are split.
 *
 * <p><b>Locked operations</b> (a LOCK prefix, XCHG with memory): an operand in one aligned 8-byte word of
 * RAM is updated with a compare-and-set of that word, retried with the result computed again from the
 * value seen; that is atomic with everything any vCPU does. An operand that crosses an 8-byte boundary (a
 * split lock) or lies in MMIO, and CMPXCHG16B, hold {@link #SPLIT_LOCK} from their read to their write
 * instead: atomic with each other, but a concurrent compare-and-set or plain store of another vCPU to the
 * same bytes can land between that read and write and be lost (x86 makes every locked operation atomic
 * with everything). Java has no wider compare-and-set, and making every locked operation announce itself
 * to the split ones would cost all of them two more shared atomics. Guests rarely meet the difference:
 * split locks are slow on hardware (Linux warns about them), and what CMPXCHG16B updates, guests update
 * with CMPXCHG16B.
 */
final class Mmu {

    static final int BITS = 10, SIZE = 1 << BITS, MASK = SIZE - 1;
    private static final long INVALID = -1;

    /** Serializes the locked operations that cannot be one compare-and-set (see the class comment), across all vCPUs. */
    static final Object SPLIT_LOCK = new Object();

    private final Cpu c;
    private final PhysicalMemory mem;
    private final CpuBus bus;
    final PageWalker walker;

    final long[] tagR = new long[SIZE];
    final long[] tagW = new long[SIZE];
    final long[] tagX = new long[SIZE];
    final MemorySegment[] hseg = new MemorySegment[SIZE];
    final long[] hoff = new long[SIZE];
    final boolean[] global = new boolean[SIZE];
    /** Per entry: size minus one of the guest page it was derived from (large pages are cached per 4 KiB). */
    final long[] pageMask = new long[SIZE];
    /** Whether any entry may come from a large page (INVLPG then scans for its other 4 KiB pieces). */
    private boolean largeEntries;

    // remembered by rmwRead for rmwWrite
    private MemorySegment rmwSeg;
    private long rmwPage;
    private long rmwOff;
    private long rmwLin;
    private int rmwSize;

    Mmu(Cpu c, PhysicalMemory mem, CpuBus bus) {
        this.c = c;
        this.mem = mem;
        this.bus = bus;
        this.walker = new PageWalker(c, this);
        flushAll();
    }

    // ---- TLB maintenance ----

    void flushAll() {
        Arrays.fill(tagR, INVALID);
        Arrays.fill(tagW, INVALID);
        Arrays.fill(tagX, INVALID);
        Arrays.fill(hseg, null);
        Arrays.fill(global, false);
        largeEntries = false;
        c.fetchKey = INVALID;
    }

    /** A CR3 load: drops every translation but the global ones. */
    void flushNonGlobal() {
        for (int i = 0; i < SIZE; i++) {
            if (!global[i]) {
                tagR[i] = INVALID;
                tagW[i] = INVALID;
                tagX[i] = INVALID;
                hseg[i] = null;
            }
        }
        c.fetchKey = INVALID;
    }

    /** INVLPG: drops the translation of the page holding {@code lin} (all of a large page), global or not. */
    void invalidate(long lin) {
        drop((int) (lin >>> 12) & MASK);
        if (largeEntries) {
            for (int i = 0; i < SIZE; i++) {
                long m = pageMask[i];
                if (m > 0xfff && tagR[i] != INVALID && (((tagR[i] >>> 1) << 12) & ~m) == (lin & ~m)) {
                    drop(i);
                }
            }
        }
        c.fetchKey = INVALID;
    }

    private void drop(int i) {
        tagR[i] = INVALID;
        tagW[i] = INVALID;
        tagX[i] = INVALID;
        hseg[i] = null;
        global[i] = false;
    }

    private static long key(long lin, int user) {
        return ((lin >>> 12) << 1) | user;
    }

    // ---- data accesses at the current privilege ----

    long read(long lin, int size, int seg) {
        int i = (int) (lin >>> 12) & MASK;
        int off = (int) lin & 0xfff;
        if (tagR[i] == key(lin, c.userBit) && off + size <= 4096) {
            return PhysicalMemory.load(hseg[i], hoff[i] + off, size);
        }
        return readSlow(lin, size, seg, c.userBit);
    }

    void write(long lin, int size, long v, int seg) {
        int i = (int) (lin >>> 12) & MASK;
        int off = (int) lin & 0xfff;
        if (tagW[i] == key(lin, c.userBit) && off + size <= 4096) {
            MemorySegment s = hseg[i];
            long page = hoff[i];
            PhysicalMemory.store(s, page + off, size, v);
            noteWrite(s, page);
            return;
        }
        writeSlow(lin, size, v, seg, c.userBit);
    }

    /** A write to the host page {@code page} of {@code s}: if it holds the code being run, say so ({@link Cpu#codeWritten}). */
    private void noteWrite(MemorySegment s, long page) {
        if (page == c.fetchOff && s == c.fetchSeg) {
            c.codeWritten = true;
        }
    }

    /** An implicit supervisor read (descriptor tables, TSS, IDT), whatever the CPL. */
    long readSys(long lin, int size) {
        return readSlow(lin, size, Cpu.DS, 0);
    }

    /** An implicit supervisor write (descriptor busy and accessed bits). */
    void writeSys(long lin, int size, long v) {
        writeSlow(lin, size, v, Cpu.DS, 0);
    }

    /** Supervisor access ({@code user} 0) or user access (1) at an explicit privilege: interrupt frames. */
    long readAs(long lin, int size, int seg, int user) {
        return readSlow(lin, size, seg, user);
    }

    void writeAs(long lin, int size, long v, int seg, int user) {
        writeSlow(lin, size, v, seg, user);
    }

    private void checkCanonical(long lin, int size, int seg) {
        if (c.longMode && (((lin << 16) >> 16) != lin || (((lin + size - 1) << 16) >> 16) != lin + size - 1)) {
            throw seg == Cpu.SS ? CpuException.ss(0) : CpuException.gp0();
        }
    }

    private long readSlow(long lin, int size, int seg, int user) {
        checkCanonical(lin, size, seg);
        int off = (int) lin & 0xfff;
        if (off + size > 4096) {
            int first = 4096 - off;
            long lo = readSlow(lin, first, seg, user);
            long hi = readSlow(lin + first, size - first, seg, user);
            return lo | (hi << (first << 3));
        }
        int i = translate(lin, PageWalker.READ, user);
        if (i >= 0) {
            return PhysicalMemory.load(hseg[i], hoff[i] + off, size);
        }
        return bus.mmioRead(walkedPa + off, size) & Cpu.mask(size);
    }

    private void writeSlow(long lin, int size, long v, int seg, int user) {
        checkCanonical(lin, size, seg);
        int off = (int) lin & 0xfff;
        if (off + size > 4096) {
            int first = 4096 - off;
            // both pages must be writable before either is written
            translate(lin, PageWalker.WRITE, user);
            translate(lin + first, PageWalker.WRITE, user);
            writeSlow(lin, first, v, seg, user);
            writeSlow(lin + first, size - first, v >>> (first << 3), seg, user);
            return;
        }
        int i = translate(lin, PageWalker.WRITE, user);
        if (i >= 0) {
            PhysicalMemory.store(hseg[i], hoff[i] + off, size, v);
            noteWrite(hseg[i], hoff[i]);
            return;
        }
        bus.mmioWrite(walkedPa + off, size, v & Cpu.mask(size));
        c.afterDeviceAccess();
    }

    /** The physical page of the last {@link #translate} that found no RAM. */
    private long walkedPa;

    /**
     * Translates the page of {@code lin} for {@code access}, filling the TLB; returns the TLB index, or -1
     * for a page that is not RAM (then {@link #walkedPa} holds its physical address).
     */
    int translate(long lin, int access, int user) {
        int i = (int) (lin >>> 12) & MASK;
        long key = key(lin, user);
        long[] tags = access == PageWalker.WRITE ? tagW : access == PageWalker.EXEC ? tagX : tagR;
        if (tags[i] == key) {
            return i;
        }
        long pa;
        boolean writable, executable, glob;
        long mask = 0xfff;
        if ((c.cr0 & Cpu.CR0_PG) != 0) {
            walker.walk(lin, access, user != 0);
            pa = walker.pa;
            writable = walker.writable;
            executable = walker.executable;
            glob = walker.global;
            mask = walker.pageMask;
        } else {
            pa = lin & 0xffff_ffff_f000L;
            writable = true;
            executable = true;
            glob = false;
        }
        PhysicalMemory.Region r = mem.region(pa);
        if (r == null) {
            walkedPa = pa;
            return -1;
        }
        boolean write = access == PageWalker.WRITE;
        mem.ensurePresent(r, pa, write);
        if (tagR[i] != key) {
            // a different page (or privilege) in this slot: start the entry afresh
            tagW[i] = INVALID;
            tagX[i] = INVALID;
        }
        hseg[i] = r.segment;
        hoff[i] = pa - r.base;
        global[i] = glob;
        pageMask[i] = mask;
        largeEntries |= mask > 0xfff;
        tagR[i] = key;
        if (write && writable) {
            tagW[i] = key;
        }
        if (executable) {
            tagX[i] = key;
        }
        return i;
    }

    // ---- read-modify-write: the write permission is checked before the read ----

    long rmwRead(long lin, int size, int seg) {
        int i = (int) (lin >>> 12) & MASK;
        int off = (int) lin & 0xfff;
        if (tagW[i] == key(lin, c.userBit) && off + size <= 4096) {
            rmwSeg = hseg[i];
            rmwPage = hoff[i];
            rmwOff = rmwPage + off;
            return PhysicalMemory.load(rmwSeg, rmwOff, size);
        }
        int user = c.userBit;
        checkCanonical(lin, size, seg);
        rmwSeg = null;
        rmwLin = lin;
        rmwSize = size;
        if (off + size > 4096) {
            translate(lin, PageWalker.WRITE, user);
            translate(lin + 4096 - off, PageWalker.WRITE, user);
        } else {
            int t = translate(lin, PageWalker.WRITE, user);
            if (t >= 0) {
                rmwSeg = hseg[t];
                rmwPage = hoff[t];
                rmwOff = rmwPage + off;
                return PhysicalMemory.load(rmwSeg, rmwOff, size);
            }
        }
        return readSlow(lin, size, seg, user);
    }

    /** Writes the result of the read-modify-write begun by the last {@link #rmwRead}. */
    void rmwWrite(long v, int size) {
        if (rmwSeg != null) {
            PhysicalMemory.store(rmwSeg, rmwOff, size, v);
            noteWrite(rmwSeg, rmwPage);
        } else {
            writeSlow(rmwLin, rmwSize, v, Cpu.DS, c.userBit);
        }
    }

    /**
     * A locked compare-and-set of the operand the last {@link #rmwRead} read: stores {@code update} if the
     * memory still holds {@code expect}. Atomic across vCPUs.
     */
    boolean rmwCas(long expect, long update, int size) {
        MemorySegment s = rmwSeg;
        if (s != null && PhysicalMemory.casable(rmwOff, size)) {
            return PhysicalMemory.cas(s, rmwOff, size, expect, update);
        }
        synchronized (SPLIT_LOCK) {
            long cur = s != null ? PhysicalMemory.load(s, rmwOff, size) : readSlow(rmwLin, size, Cpu.DS, c.userBit);
            if (cur != expect) {
                return false;
            }
            rmwWrite(update, size);
            return true;
        }
    }

    // ---- instruction fetch ----

    /** Fetches the byte at {@code lin} for execution, through the one-page fetch cache. */
    int fetch(long lin) {
        long key = key(lin, c.userBit);
        if (key == c.fetchKey) {
            return c.fetchSeg.get(PhysicalMemory.B, c.fetchOff + (lin & 0xfff)) & 0xff;
        }
        return fetchSlow(lin, key);
    }

    private int fetchSlow(long lin, long key) {
        checkCanonical(lin, 1, Cpu.CS);
        int i = translate(lin, PageWalker.EXEC, c.userBit);
        if (i < 0) {
            return (int) bus.mmioRead(walkedPa + (lin & 0xfff), 1) & 0xff;
        }
        c.fetchKey = key;
        c.fetchSeg = hseg[i];
        c.fetchOff = hoff[i];
        return c.fetchSeg.get(PhysicalMemory.B, c.fetchOff + (lin & 0xfff)) & 0xff;
    }

    // ---- physical accesses (page walks) ----

    long physRead64(long pa) {
        PhysicalMemory.Region r = mem.region(pa);
        return r != null ? mem.read(r, pa, 8) : bus.mmioRead(pa, 8);
    }

    long physRead32(long pa) {
        PhysicalMemory.Region r = mem.region(pa);
        return r != null ? mem.read(r, pa, 4) : bus.mmioRead(pa, 4) & 0xffff_ffffL;
    }

    boolean physCas64(long pa, long expect, long update) {
        PhysicalMemory.Region r = mem.region(pa);
        if (r == null) {
            bus.mmioWrite(pa, 8, update);
            return true;
        }
        mem.ensurePresent(r, pa, true);
        return PhysicalMemory.cas(r.segment, pa - r.base, 8, expect, update);
    }

    boolean physCas32(long pa, long expect, long update) {
        PhysicalMemory.Region r = mem.region(pa);
        if (r == null) {
            bus.mmioWrite(pa, 4, update);
            return true;
        }
        mem.ensurePresent(r, pa, true);
        return PhysicalMemory.cas(r.segment, pa - r.base, 4, expect, update);
    }

    /** Reads guest physical memory (RAM or MMIO) for tests and tools; may cross pages. */
    long physRead(long pa, int size) {
        long v = 0;
        for (int k = 0; k < size; k++) {
            PhysicalMemory.Region r = mem.region(pa + k);
            long b = r != null ? mem.read(r, pa + k, 1) : bus.mmioRead(pa + k, 1) & 0xff;
            v |= b << (8 * k);
        }
        return v;
    }
}
