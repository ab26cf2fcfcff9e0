package dev.thaw.restore.impl;

import dev.thaw.api.restore.HostRegion;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.util.List;

/** Page numbering across regions (region 0 first) and where each page lies in host memory. */
final class Pages {

    final SnapshotReader reader;
    final int pageSize;
    final int shift;
    /** First page of each region, plus the total at the end. */
    final long[] first;
    final long[] host;
    final long[] size;
    final long presentTotal;

    Pages(SnapshotReader reader, List<HostRegion> memory) {
        this.reader = reader;
        List<SnapshotRegion> regions = reader.regions();
        if (regions.isEmpty() || regions.size() != memory.size()) {
            throw new RestoreException(reader.file() + ": the snapshot has " + regions.size()
                    + " memory regions, the guest " + memory.size());
        }
        pageSize = regions.getFirst().pageSize();
        shift = Integer.numberOfTrailingZeros(pageSize);
        first = new long[regions.size() + 1];
        host = new long[regions.size()];
        size = new long[regions.size()];
        long present = 0;
        for (int r = 0; r < regions.size(); r++) {
            SnapshotRegion s = regions.get(r);
            HostRegion h = memory.get(r);
            if (s.pageSize() != pageSize || s.size() != h.size() || (h.hostAddress() & (pageSize - 1)) != 0) {
                throw new RestoreException(reader.file() + ": region " + r + " (" + s.name() + ", " + s.size()
                        + " bytes, pages of " + s.pageSize() + ") does not match guest memory of " + h.size()
                        + " bytes at 0x" + Long.toHexString(h.hostAddress()));
            }
            host[r] = h.hostAddress();
            size[r] = h.size();
            first[r + 1] = first[r] + s.pages();
            present += s.presentPages();
        }
        presentTotal = present;
    }

    long total() {
        return first[first.length - 1];
    }

    int regions() {
        return host.length;
    }

    int regionOf(long page) {
        int r = 0;
        while (page >= first[r + 1]) {
            r++;
        }
        return r;
    }

    /** One past the last page of the region holding {@code page}. */
    long regionEnd(long page) {
        return first[regionOf(page) + 1];
    }

    long address(long page) {
        int r = regionOf(page);
        return host[r] + ((page - first[r]) << shift);
    }

    /** The page at host address {@code address}, or -1 outside guest memory. */
    long pageAt(long address) {
        for (int r = 0; r < host.length; r++) {
            if (address >= host[r] && address - host[r] < size[r]) {
                return first[r] + ((address - host[r]) >>> shift);
            }
        }
        return -1;
    }

    boolean present(long page) {
        int r = regionOf(page);
        return reader.isPresent(r, page - first[r]);
    }
}
