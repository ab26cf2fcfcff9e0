package dev.thaw.restore.impl;

import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.util.List;

/** The pages of an open snapshot, numbered across its regions (region 0 first), and which the file holds. */
class SnapshotPages {

    final SnapshotReader reader;
    final int pageSize;
    final int shift;
    /** First page of each region, plus the total at the end. */
    final long[] first;
    final long presentTotal;

    SnapshotPages(SnapshotReader reader) {
        this.reader = reader;
        List<SnapshotRegion> regions = reader.regions();
        if (regions.isEmpty()) {
            throw new RestoreException(reader.file() + ": the snapshot has no memory regions");
        }
        pageSize = regions.getFirst().pageSize();
        shift = Integer.numberOfTrailingZeros(pageSize);
        first = new long[regions.size() + 1];
        long present = 0;
        for (int r = 0; r < regions.size(); r++) {
            SnapshotRegion s = regions.get(r);
            if (s.pageSize() != pageSize) {
                throw new RestoreException(reader.file() + ": region " + r + " (" + s.name() + ") has pages of "
                        + s.pageSize() + " bytes, region 0 of " + pageSize);
            }
            first[r + 1] = first[r] + s.pages();
            present += s.presentPages();
        }
        presentTotal = present;
    }

    final long total() {
        return first[first.length - 1];
    }

    final int regionOf(long page) {
        int r = 0;
        while (page >= first[r + 1]) {
            r++;
        }
        return r;
    }

    /** One past the last page of the region holding {@code page}. */
    final long regionEnd(long page) {
        return first[regionOf(page) + 1];
    }

    final boolean present(long page) {
        int r = regionOf(page);
        return reader.isPresent(r, page - first[r]);
    }
}
