package dev.thaw.shell.impl;

import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A region's contents read in chunks of pages, absent pages as zeros, into one reused buffer of at most
 * {@link #CHUNK_BYTES}: a region whose pages are larger than that is refused, whatever its format says.
 */
final class RegionChunks implements AutoCloseable {

    /** Bytes read at a time. */
    static final long CHUNK_BYTES = 16L << 20;

    private final Arena arena;
    private final SnapshotReader reader;
    private final int region;
    private final SnapshotRegion layout;
    private final long pagesPerChunk;
    private final MemorySegment buffer;

    RegionChunks(SnapshotReader reader, int region) {
        this.reader = reader;
        this.region = region;
        this.layout = reader.regions().get(region);
        int pageSize = layout.pageSize();
        if (pageSize <= 0 || Integer.bitCount(pageSize) != 1 || pageSize > CHUNK_BYTES) {
            throw new SnapshotException(reader.file(), "region " + layout.name() + " has " + pageSize + "-byte pages, not a "
                    + "power of two of at most " + CHUNK_BYTES + " bytes (what is read at a time)");
        }
        this.pagesPerChunk = CHUNK_BYTES / pageSize;
        this.arena = Arena.ofConfined();
        this.buffer = arena.allocate(pagesPerChunk * pageSize, 4096);
    }

    long pagesPerChunk() {
        return pagesPerChunk;
    }

    /** Pages {@code [first, first + count)}, {@code count <= pagesPerChunk()}; valid until the next call. */
    MemorySegment read(long first, long count) {
        MemorySegment chunk = buffer.asSlice(0, count * layout.pageSize());
        reader.readPages(region, first, count, chunk);
        return chunk;
    }

    @Override
    public void close() {
        arena.close();
    }
}
