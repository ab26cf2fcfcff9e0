package dev.thaw.format.qemu.impl;

/**
 * One RAM block of a mapped-ram file: its pages lie at {@code pagesOffset + i * pageSize}, and bit i of the
 * bitmap at {@code bitmapOffset} says whether page i is there (else it was zero). Offsets are file offsets.
 */
record RamBlock(String name, long usedLength, long pageSize, long bitmapOffset, long pagesOffset) {

    long pages() {
        return usedLength / pageSize;
    }

    /** Bytes of the bitmap: one bit per page, in whole 64-bit words. */
    long bitmapBytes() {
        return (pages() + 63) / 64 * 8;
    }
}
