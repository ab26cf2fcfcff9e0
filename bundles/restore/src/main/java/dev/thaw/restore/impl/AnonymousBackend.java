package dev.thaw.restore.impl;

import dev.thaw.linux.Userfaultfd;
import java.lang.foreign.MemorySegment;

/** The caller's anonymous memory: pages read into the thread's staging buffer, then UFFDIO_COPY. The default. */
final class AnonymousBackend implements MemoryBackend {

    private final Pages pages;

    AnonymousBackend(Pages pages) {
        this.pages = pages;
    }

    @Override
    public long features() {
        return 0;
    }

    @Override
    public long registerMode() {
        return Userfaultfd.UFFDIO_REGISTER_MODE_MISSING;
    }

    @Override
    public void attach() {
        // the memory is the caller's as it is
    }

    @Override
    public long fill(long first, long count, MemorySegment staging, UffdCopier copier) {
        long bytes = count << pages.shift;
        MemorySegment buffer = staging.asSlice(0, bytes);
        RunReader.read(pages, first, count, buffer);
        copier.copy(first, count, buffer);
        return bytes;
    }

    @Override
    public void detach(boolean startFailed) {
        // nothing held; nothing loaded if the start failed, so the memory is as it was
    }
}
