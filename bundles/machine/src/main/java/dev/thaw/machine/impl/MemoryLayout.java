package dev.thaw.machine.impl;

import java.util.ArrayList;
import java.util.List;

/**
 * Where guest RAM lies in guest physical space: below the 3 GiB mark, and the rest from 4 GiB, so the
 * IOAPIC and LAPIC pages (0xFEC00000, 0xFEE00000) sit in a hole as on a PC.
 */
final class MemoryLayout {

    static final long LOW_RAM_LIMIT = 3L << 30;
    static final long HIGH_RAM_BASE = 4L << 30;

    /** One contiguous range of guest RAM. */
    record Region(long guestAddress, long size) {}

    private MemoryLayout() {}

    static List<Region> regions(long memoryBytes) {
        List<Region> regions = new ArrayList<>();
        regions.add(new Region(0, Math.min(memoryBytes, LOW_RAM_LIMIT)));
        if (memoryBytes > LOW_RAM_LIMIT) {
            regions.add(new Region(HIGH_RAM_BASE, memoryBytes - LOW_RAM_LIMIT));
        }
        return regions;
    }
}
