package dev.thaw.restore.impl;

import java.lang.foreign.MemorySegment;

/**
 * How snapshot pages reach one restore's guest memory: the engine's choice of memory, the rest of the
 * engine (fault service, claims, policy, loaders) the same for each. {@link AnonymousBackend}: the
 * caller's anonymous memory, each page read into a staging buffer and copied in (UFFDIO_COPY).
 * {@link SharedCacheBackend}: the memory becomes a private mapping of a {@link SharedPageCacheImpl} and
 * pages are mapped from it (UFFDIO_CONTINUE). Zero pages are UFFDIO_ZEROPAGE in both. The anonymous memory's
 * loaders also move whole huge pages in ({@link HugeRanges}, UFFDIO_MOVE); the shared cache's pages never move.
 */
interface MemoryBackend {

    /** userfaultfd features needed beyond THREAD_ID ({@code UFFD_FEATURE_*}). */
    long features();

    /** The userfaultfd registration mode ({@code UFFDIO_REGISTER_MODE_*}). */
    long registerMode();

    /**
     * Makes the guest memory this backend's, before it is registered and before any vCPU runs; on failure
     * nothing is left changed.
     *
     * @throws dev.thaw.api.restore.RestoreException naming the snapshot and the problem
     */
    void attach();

    /**
     * Puts claimed snapshot-held pages {@code [first, first+count)} (one region) into guest memory and wakes
     * their waiters; {@code staging} is the calling thread's buffer, at least {@code count} pages. Returns
     * the bytes this call read from the snapshot.
     *
     * @throws PageLoadException naming the first page that could not be read or put in
     */
    long fill(long first, long count, MemorySegment staging, UffdCopier copier);

    /**
     * Lets go of what the backend holds, once, after the userfaultfd is released. With {@code startFailed}
     * (the restore never started), the guest memory is made fresh anonymous memory again, as the caller gave it.
     */
    void detach(boolean startFailed);
}
