package dev.thaw.bench.impl;

import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;

/**
 * Puts the host's memory behind free guest-physical pages back before a row, so that every row starts
 * alike. On a VM whose balloon reports free memory to its host (free page reporting: this machine's
 * kernel reports free blocks of 8 MiB and more about 2 s after they are freed), the host takes that
 * memory back, and whoever gets it next pays about 10 µs per 4 KiB page to have it again, in any load
 * path: QEMU's load of a 512 MiB file measured 80 ms right after another load and 1.1-1.9 s after a
 * pause of 3 s. Which row paid that would depend on the pauses between rows, not on the rows.
 */
final class HostBacking {

    private HostBacking() {}

    /** Touches {@code bytes} of fresh huge-page memory and frees it, all within well under 2 s. */
    static void warm(long bytes) {
        try (Mapping m = FileLoadBench.anonymous(bytes)) {
            Libc.madvise(m.address(), m.size(), Libc.MADV_HUGEPAGE);
            Libc.madvise(m.address(), m.size(), Libc.MADV_POPULATE_WRITE);
        }
    }
}
