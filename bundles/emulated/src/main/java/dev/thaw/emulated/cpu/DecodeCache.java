package dev.thaw.emulated.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Decoded instructions by linear address, so that a loop decodes once. An entry is used only if the
 * instruction's bytes in memory still equal the bytes it was decoded from (compared as two masked 64-bit
 * words) and the code segment's mode is the same: that is everything decoding depends on, so no
 * invalidation is needed when code is modified (by any vCPU) or pages are remapped. Instructions that
 * cross a page, lie in MMIO or are near the end of a page (where the 16-byte window would cross it) are
 * decoded each time. Added after profiling the fill loop: decoding took about three quarters of the time.
 */
final class DecodeCache {

    private static final int BITS = 12, SIZE = 1 << BITS, MASK = SIZE - 1;

    private final Cpu c;
    private final Mmu mmu;
    private final Decoder decoder;
    /** Made on first use of their slot: a vCPU that is created and restored allocates none of them up front. */
    private final Insn[] entries = new Insn[SIZE];
    /** Used for instructions that are not cached. */
    private final Insn scratch = new Insn();

    DecodeCache(Cpu c, Mmu mmu, Decoder decoder) {
        this.c = c;
        this.mmu = mmu;
        this.decoder = decoder;
    }

    /**
     * The decoded instruction at CS:RIP (may fault like a fetch). The hit path is kept this small so that
     * the JIT inlines it into the run loop; everything else is in {@link #miss}.
     */
    Insn get() {
        long rip = c.rip;
        long lin = c.mode64 ? rip : (c.segBase[Cpu.CS] + rip) & 0xffff_ffffL;
        Insn e = entries[slot(lin)];
        if (e != null && e.cacheLin == lin && e.cacheMode == c.decodeMode && c.fetchKey == pageKey(lin)
                && matches(e, c.fetchSeg, c.fetchOff + (lin & 0xfff))
                && (c.mode64 || rip + e.len - 1 <= c.segLimit[Cpu.CS])) {
            return e;
        }
        return miss(rip, lin);
    }

    /**
     * The slot of the instruction at {@code lin}: its page offset, turned by a hash of its page, so the
     * bytes of one page use distinct slots and code at the same offset in other pages mostly other ones.
     */
    private static int slot(long lin) {
        return (int) (lin + ((lin >>> 12) * 0x9E37_79B9L >>> 20)) & MASK;
    }

    /** The fetch page cache's key of the page of {@code lin} at the current privilege (see {@link Mmu#fetch}). */
    private long pageKey(long lin) {
        return ((lin >>> 12) << 1) | c.userBit;
    }

    /** Whether the instruction's bytes at {@code off} in {@code s} are still the ones {@code e} was decoded from. */
    private static boolean matches(Insn e, MemorySegment s, long off) {
        return (s.get(PhysicalMemory.L_U, off) & e.mask0) == e.bytes0
                && (e.mask1 == 0 || (s.get(PhysicalMemory.L_U, off + 8) & e.mask1) == e.bytes1);
    }

    /** Not cached, stale, or on a page the fetch cache does not hold: translate, then decode (and cache). */
    private Insn miss(long rip, long lin) {
        int pageOff = (int) lin & 0xfff;
        if (pageOff > 4096 - 16) {
            decoder.decode(scratch);
            return scratch;
        }
        long key = pageKey(lin);
        if (c.fetchKey != key) {
            mmu.fetch(lin); // translate (or fault) and fill the fetch page cache
            if (c.fetchKey != key) {
                decoder.decode(scratch); // not RAM
                return scratch;
            }
        }
        MemorySegment s = c.fetchSeg;
        long off = c.fetchOff + pageOff;
        int slot = slot(lin);
        Insn e = entries[slot];
        if (e == null) {
            e = new Insn();
            entries[slot] = e;
        } else if (e.cacheLin == lin && e.cacheMode == c.decodeMode && matches(e, s, off)) {
            if (!c.mode64 && rip + e.len - 1 > c.segLimit[Cpu.CS]) {
                decoder.decode(scratch); // raises the #GP
                return scratch;
            }
            return e;
        }
        long w0 = s.get(PhysicalMemory.L_U, off);
        long w1 = s.get(PhysicalMemory.L_U, off + 8);
        e.cacheLin = -1;
        decoder.decode(e);
        int len = e.len;
        e.mask0 = len >= 8 ? -1L : (1L << (8 * len)) - 1;
        e.mask1 = len <= 8 ? 0 : (1L << (8 * (len - 8))) - 1;
        e.bytes0 = w0 & e.mask0;
        e.bytes1 = w1 & e.mask1;
        e.cacheMode = c.decodeMode;
        e.cacheLin = lin;
        return e;
    }
}
