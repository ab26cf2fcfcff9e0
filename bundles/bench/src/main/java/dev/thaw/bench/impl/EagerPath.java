package dev.thaw.bench.impl;

import java.util.List;

/**
 * One way to read a region's present pages into fresh memory before anything runs, for the eager rows of
 * {@code thaw:bench qemu-file}: where the reads go (memory left to 4 KiB pages, or advised
 * {@code MADV_HUGEPAGE}; made present with {@code MADV_POPULATE_WRITE} first or not), on how many threads,
 * and how many bytes each {@code readPages} call asks for.
 *
 * @param mode the row's name
 * @param hugePages advise the memory {@code MADV_HUGEPAGE} before reading
 * @param populateFirst make every page present with {@code MADV_POPULATE_WRITE} before reading
 * @param threads reader threads, each with a contiguous share of the region (whole 2 MiB pieces)
 * @param readBytes bytes per read call at most
 */
record EagerPath(String mode, boolean hugePages, boolean populateFirst, int threads, long readBytes) {

    /**
     * Thaw's own eager restore, as {@code EagerLoader} in the machine bundle reads: into huge pages, on one
     * thread, calls of up to 16 MiB (a Thaw file's reader reads and checks them in cache-sized pieces). The
     * bench cannot call that loader, so this row follows it.
     */
    static final EagerPath THAW = new EagerPath(FileLoadBench.EAGER, true, false, 1, 16L << 20);

    /** The paths measured beside {@link #THAW}: what it was before, and what lost to it. */
    static List<EagerPath> candidates() {
        long large = THAW.readBytes();
        return List.of(
                new EagerPath("eager 4k", false, false, 1, large),
                new EagerPath("eager 4k populate", false, true, 1, large),
                new EagerPath("eager thp 2t", true, false, 2, large),
                new EagerPath("eager thp populate", true, true, 1, large),
                THAW);
    }

    String describe() {
        return (hugePages ? "MADV_HUGEPAGE" : "4 KiB pages") + (populateFirst ? ", MADV_POPULATE_WRITE first" : "")
                + ", " + (readBytes >> 10) + " KiB reads on " + threads + (threads == 1 ? " thread" : " threads");
    }
}
