package dev.thaw.restore.impl;

import dev.thaw.api.restore.RestoreException;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Userfaultfd;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest memory that shares a {@link SharedPageCacheImpl}'s pages: each region is mapped MAP_PRIVATE from the
 * cache's memfd over the caller's memory (same host address, so a runtime's memory slots stay valid) and
 * registered MISSING|MINOR. A fault on a hole of the memfd is MISSING, one on a page the cache holds but this
 * guest has not mapped MINOR; either way a snapshot-held page is made sure of in the cache (read once
 * fleet-wide) and mapped with UFFDIO_CONTINUE, read-only, so a write copies it into a page of the guest's
 * own. The kernel behaviours are checked by MemfdUserfaultfdTest (native bundle).
 */
final class SharedCacheBackend implements MemoryBackend {

    private static final Logger LOG = LoggerFactory.getLogger(SharedCacheBackend.class);
    private static final int PROT_RW = Libc.PROT_READ | Libc.PROT_WRITE;

    private final Pages pages;
    private final SharedPageCacheImpl cache;
    private final BooleanSupplier active;
    private final AtomicBoolean detached = new AtomicBoolean();

    /** @param active whether the restore still wants pages (a wait for another reader ends when not) */
    SharedCacheBackend(Pages pages, SharedPageCacheImpl cache, BooleanSupplier active) {
        this.pages = pages;
        this.cache = cache;
        this.active = active;
    }

    @Override
    public long features() {
        return Userfaultfd.UFFD_FEATURE_MINOR_SHMEM;
    }

    @Override
    public long registerMode() {
        return Userfaultfd.UFFDIO_REGISTER_MODE_MISSING | Userfaultfd.UFFDIO_REGISTER_MODE_MINOR;
    }

    @Override
    public void attach() {
        if (cache.reader() != pages.reader) {
            throw new RestoreException(pages.reader.file() + ": the shared page cache is of another open snapshot ("
                    + cache.file() + ")");
        }
        if (!cache.join()) {
            throw new RestoreException(pages.reader.file() + ": the shared page cache is closed");
        }
        int mapped = 0;
        try {
            for (; mapped < pages.regions(); mapped++) {
                Libc.mmap(pages.host[mapped], pages.size[mapped], PROT_RW,
                        Libc.MAP_FIXED | Libc.MAP_PRIVATE | Libc.MAP_NORESERVE, cache.fd(), cache.offset(pages.first[mapped]));
            }
        } catch (ErrnoException e) {
            toAnonymous(mapped);
            cache.leave();
            throw new RestoreException(pages.reader.file() + ": cannot map the shared page cache over region " + mapped
                    + ": " + e.getMessage(), e);
        }
    }

    @Override
    public long fill(long first, long count, MemorySegment staging, UffdCopier copier) {
        long read = cache.ensure(first, count, active);
        copier.continuePages(first, count);
        return read;
    }

    @Override
    public void detach(boolean startFailed) {
        if (!detached.compareAndSet(false, true)) {
            return;
        }
        if (startFailed) {
            toAnonymous(pages.regions());
        }
        cache.leave();
    }

    /** Maps fresh anonymous memory over regions {@code [0, regions)} again, as the caller gave them. */
    private void toAnonymous(int regions) {
        for (int r = 0; r < regions; r++) {
            try {
                Libc.mmap(pages.host[r], pages.size[r], PROT_RW,
                        Libc.MAP_FIXED | Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
            } catch (ErrnoException e) {
                LOG.error("{}: region {} stays a mapping of the shared page cache: {}", pages.reader.file(), r,
                        e.getMessage());
            }
        }
    }
}
