package dev.thaw.restore.impl;

import dev.thaw.api.restore.HostRegion;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.util.List;

/** The snapshot's pages ({@link SnapshotPages}) and where each lies in one guest's host memory. */
final class Pages extends SnapshotPages {

    final long[] host;
    final long[] size;

    Pages(SnapshotReader reader, List<HostRegion> memory) {
        super(reader);
        List<SnapshotRegion> regions = reader.regions();
        if (regions.size() != memory.size()) {
            throw new RestoreException(reader.file() + ": the snapshot has " + regions.size()
                    + " memory regions, the guest " + memory.size());
        }
        host = new long[regions.size()];
        size = new long[regions.size()];
        for (int r = 0; r < regions.size(); r++) {
            SnapshotRegion s = regions.get(r);
            HostRegion h = memory.get(r);
            if (s.size() != h.size() || (h.hostAddress() & (pageSize - 1)) != 0) {
                throw new RestoreException(reader.file() + ": region " + r + " (" + s.name() + ", " + s.size()
                        + " bytes, pages of " + s.pageSize() + ") does not match guest memory of " + h.size()
                        + " bytes at 0x" + Long.toHexString(h.hostAddress()));
            }
            host[r] = h.hostAddress();
            size[r] = h.size();
        }
    }

    int regions() {
        return host.length;
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
}
