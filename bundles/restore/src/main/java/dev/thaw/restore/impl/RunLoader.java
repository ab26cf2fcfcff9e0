package dev.thaw.restore.impl;

import java.lang.foreign.MemorySegment;

/**
 * What the background loaders do with the runs they claim: {@link PageLoader} puts them into the guest's memory;
 * {@link CacheFill}, for a member of a shared fleet, reads them into the fleet's page cache only, where the guest
 * finds them when it touches them.
 */
interface RunLoader {

    /**
     * Loads claimed snapshot pages {@code [first, first+count)} (one region); {@code staging} is the calling thread's
     * buffer, {@code touch} whether pages put into guest memory are read once from user space. False if the
     * restore failed (the failure is reported, naming the page).
     */
    boolean load(long first, long count, MemorySegment staging, boolean touch);

    /** Loads the claimed huge range from {@code first} whole; how many of its pages the snapshot holds, or -1 on failure. */
    long loadWhole(long first, boolean touch);

    /** The loaders have no run left to claim: returns once the pages others claimed are in, or the restore ended. */
    void drained();
}
