package dev.thaw.restore.impl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Staging buffers (pages read from the snapshot before UFFDIO_COPY), one per thread and kept with it. A
 * restore's jobs run on the engine's pooled threads: a fault service that allocated, zeroed and faulted
 * in 2 MiB at each restore's start spent a CPU on it while the vCPUs were still being restored, and each
 * loader did the same with 512 KiB. A buffer is freed when its thread ends.
 */
final class Staging {

    private static final ThreadLocal<MemorySegment> BUFFERS = new ThreadLocal<>();

    private Staging() {}

    /** The calling thread's buffer, {@code bytes} long and aligned to {@code align} (a power of two). */
    static MemorySegment of(long bytes, long align) {
        MemorySegment b = BUFFERS.get();
        if (b == null || b.byteSize() < bytes || (b.address() & (align - 1)) != 0) {
            b = Arena.ofAuto().allocate(bytes, align);
            BUFFERS.set(b);
        }
        return b.asSlice(0, bytes);
    }
}
