package dev.thaw.bench.impl;

import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.SnapshotOrigin;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** One region of an open snapshot, as a snapshot of its own: what a load of just that region reads. */
final class OneRegion implements SnapshotReader {

    private final SnapshotReader reader;
    private final int region;

    OneRegion(SnapshotReader reader, int region) {
        this.reader = reader;
        this.region = region;
    }

    @Override
    public Path file() {
        return reader.file();
    }

    @Override
    public String format() {
        return reader.format();
    }

    @Override
    public int version() {
        return reader.version();
    }

    @Override
    public Optional<MachineState> state() {
        return Optional.empty();
    }

    @Override
    public SnapshotOrigin origin() {
        return reader.origin();
    }

    @Override
    public List<SnapshotRegion> regions() {
        return List.of(reader.regions().get(region));
    }

    @Override
    public boolean isPresent(int r, long page) {
        return reader.isPresent(check(r), page);
    }

    @Override
    public void readPages(int r, long firstPage, long count, MemorySegment target) {
        reader.readPages(check(r), firstPage, count, target);
    }

    private int check(int r) {
        if (r != 0) {
            throw new IllegalArgumentException("this view has region 0 only, not " + r);
        }
        return region;
    }

    /** The caller closes the reader it viewed. */
    @Override
    public void close() {}
}
