package dev.thaw.machine.impl;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.api.runtime.GuestMemoryRegion;
import java.util.List;

/**
 * Eager restore's memory: every page the snapshot holds, read straight into guest memory before the
 * vCPUs start. Absent pages are zero in the snapshot and in fresh anonymous memory alike, so they are
 * not touched (which would make the host allocate them).
 *
 * <p>The memory is huge pages ({@link MemoryLoader#servesFaults()} is false, so the VM is made with
 * {@code VmSpec.hugePages}): a read then costs one fault per 2 MiB instead of one per 4 KiB, and the guest's
 * first touch of each page costs nothing more. On this project's machines that made the load of 512 MiB
 * about 15 times faster, touch included; one thread reads as fast as two (docs/restore-figures.md, "Eager
 * load paths"). A Thaw file's reader checks each page's checksum right after reading it, while it is in
 * the cache.
 */
final class EagerLoader {

    /** Pages read per call at most: large reads, and progress that moves. */
    static final long MAX_RUN_PAGES = 4096;

    private EagerLoader() {}

    static void load(SnapshotReader reader, List<GuestMemoryRegion> memory, Progress progress) {
        List<SnapshotRegion> regions = reader.regions();
        long total = regions.stream().mapToLong(r -> r.presentPages() * r.pageSize()).sum();
        long done = 0;
        for (int r = 0; r < regions.size(); r++) {
            SnapshotRegion region = regions.get(r);
            int pageSize = region.pageSize();
            long pages = region.pages();
            long page = 0;
            while (page < pages) {
                if (!reader.isPresent(r, page)) {
                    page++;
                    continue;
                }
                long run = 1;
                while (page + run < pages && run < MAX_RUN_PAGES && reader.isPresent(r, page + run)) {
                    run++;
                }
                reader.readPages(r, page, run, memory.get(r).memory().asSlice(page * pageSize, run * pageSize));
                done += run * pageSize;
                progress.update(done, total);
                page += run;
            }
        }
    }
}
