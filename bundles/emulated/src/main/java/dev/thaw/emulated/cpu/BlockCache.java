package dev.thaw.emulated.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Decoded {@link Block}s by linear address, so that a loop decodes once and the run loop looks up once per
 * block, not per instruction. A block is used only if its bytes in memory still equal the bytes it was
 * decoded from and the code segment's mode is the same: that is everything decoding depends on, so no
 * invalidation is needed when code is modified (by any vCPU) or pages are remapped. A write by the block's
 * own instructions to its page ends the block after that instruction ({@link Cpu#codeWritten}), so the
 * next lookup compares again. Instructions that cross a page, lie in MMIO or are near the end of a page
 * (where a 16-byte decode window would cross it) are decoded each time, one at a time.
 *
 * <p>History: first a cache of single instructions, added after profiling the fill loop (decoding took
 * about three quarters of the time); then blocks, when profiles showed the per-instruction lookup and the
 * boundary checks around it costing more than most instructions themselves.
 */
final class BlockCache {

    private static final int BITS = 10, SIZE = 1 << BITS, MASK = SIZE - 1;
    /** A block does not go past this page offset: the decoder may look 15 bytes ahead of an instruction. */
    private static final int LAST_START = 4096 - 16;

    private final Cpu c;
    private final Mmu mmu;
    private final Decoder decoder;
    /** Made on first use of their slot: a vCPU that is created and restored allocates none of them up front. */
    private final Block[] blocks = new Block[SIZE];
    /** The one-instruction block of code that is not cached. */
    private final Block scratch = new Block();

    BlockCache(Cpu c, Mmu mmu, Decoder decoder) {
        this.c = c;
        this.mmu = mmu;
        this.decoder = decoder;
    }

    /**
     * The block at CS:RIP (may fault like a fetch). The hit path is kept small so that the JIT inlines it
     * into the run loop; everything else is in {@link #miss}.
     */
    Block get() {
        long rip = c.rip;
        long lin = c.mode64 ? rip : (c.segBase[Cpu.CS] + rip) & 0xffff_ffffL;
        Block b = blocks[slot(lin)];
        if (b != null && b.lin == lin && b.mode == c.decodeMode && c.fetchKey == pageKey(lin)
                && matches(b, c.fetchSeg, c.fetchOff + (lin & 0xfff)) && (c.mode64 || withinLimit(b, rip))) {
            return b;
        }
        return miss(rip, lin);
    }

    /**
     * The slot of the block at {@code lin}: its page offset, turned by a hash of its page, so the code of
     * one page uses distinct slots and code at the same offset in other pages mostly other ones.
     */
    private static int slot(long lin) {
        return (int) (lin + ((lin >>> 12) * 0x9E37_79B9L >>> 20)) & MASK;
    }

    /** The fetch page cache's key of the page of {@code lin} at the current privilege (see {@link Mmu#fetch}). */
    private long pageKey(long lin) {
        return ((lin >>> 12) << 1) | c.userBit;
    }

    private boolean withinLimit(Block b, long rip) {
        return rip + b.byteLen - 1 <= c.segLimit[Cpu.CS];
    }

    /** Whether the bytes at {@code off} in {@code s} are still the ones {@code b} was decoded from. */
    private static boolean matches(Block b, MemorySegment s, long off) {
        long[] words = b.words;
        int last = b.wordCount - 1;
        for (int k = 0; k < last; k++) {
            if (s.get(PhysicalMemory.L_U, off + 8L * k) != words[k]) {
                return false;
            }
        }
        return (s.get(PhysicalMemory.L_U, off + 8L * last) & b.lastMask) == words[last];
    }

    /** Not cached, stale, or on a page the fetch cache does not hold: translate, then decode (and cache). */
    private Block miss(long rip, long lin) {
        int pageOff = (int) lin & 0xfff;
        if (pageOff > LAST_START) {
            return single();
        }
        long key = pageKey(lin);
        if (c.fetchKey != key) {
            mmu.fetch(lin); // translate (or fault) and fill the fetch page cache
            if (c.fetchKey != key) {
                return single(); // not RAM
            }
        }
        int slot = slot(lin);
        Block b = blocks[slot];
        if (b == null) {
            b = new Block();
            blocks[slot] = b;
        }
        b.lin = -1;
        decodeBlock(b, rip, pageOff);
        if (!c.mode64 && !withinLimit(b, rip)) {
            return single(); // the last instruction raises the #GP, or code up to the limit runs one by one
        }
        MemorySegment s = c.fetchSeg;
        long off = c.fetchOff + pageOff;
        int len = b.byteLen;
        b.wordCount = (len + 7) >>> 3;
        for (int k = 0; k < b.wordCount; k++) {
            b.words[k] = s.get(PhysicalMemory.L_U, off + 8L * k);
        }
        int tail = len & 7;
        b.lastMask = tail == 0 ? -1L : (1L << (8 * tail)) - 1;
        b.words[b.wordCount - 1] &= b.lastMask;
        b.mode = c.decodeMode;
        b.lin = lin;
        return b;
    }

    /**
     * Decodes from {@code rip} until an instruction that ends a block, the block's size limit, or the end
     * of the page; an instruction after the first that cannot be decoded (it faults) is left out, to fault
     * when it is reached. The first one's fault is the caller's.
     */
    private void decodeBlock(Block b, long rip, int pageOff) {
        int count = 0;
        int len = 0;
        try {
            while (true) {
                Insn i = b.insn(count);
                decoder.decode(i);
                count++;
                len += i.len;
                if (count == Block.MAX_INSNS || !Block.mayContinueAfter(i) || pageOff + len > LAST_START
                        || (!c.mode64 && ((rip + len) & c.ipMask()) != rip + len)) {
                    break;
                }
                c.rip = rip + len; // the decoder reads from CS:RIP; straight-line code in one page
                decoder.lookahead = true;
            }
        } catch (CpuException e) {
            if (count == 0) {
                throw e;
            }
        } finally {
            c.rip = rip;
            decoder.lookahead = false;
        }
        b.count = count;
        b.byteLen = len;
    }

    /** The instruction at CS:RIP as a block of its own, decoded now and not kept. */
    private Block single() {
        Insn i = scratch.insn(0);
        decoder.decode(i);
        scratch.count = 1;
        scratch.byteLen = i.len;
        return scratch;
    }
}
