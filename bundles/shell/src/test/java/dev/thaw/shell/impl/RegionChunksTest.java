package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotOrigin;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * thaw:inspect --sha256 and thaw:diff read a region through one buffer of at most 16 MiB, whatever page
 * size a format reports (issue 12, item 5: a 1 GiB page made --sha256 allocate 1 GiB at once).
 */
class RegionChunksTest {

    @Test
    void theBufferHoldsWholePagesUpToSixteenMebibytes() {
        try (RegionChunks chunks = new RegionChunks(reader(4096), 0)) {
            assertEquals(4096, chunks.pagesPerChunk());
            assertEquals(16L << 20, chunks.read(0, chunks.pagesPerChunk()).byteSize());
        }
        try (RegionChunks chunks = new RegionChunks(reader(16 << 20), 0)) {
            assertEquals(1, chunks.pagesPerChunk());
        }
    }

    @Test
    void pagesLargerThanTheBufferOrOfNoPowerOfTwoAreRefusedBeforeAnythingIsAllocated() {
        for (int pageSize : new int[] {1 << 30, 32 << 20, 3000, 0}) {
            SnapshotException e = assertThrows(SnapshotException.class, () -> new RegionChunks(reader(pageSize), 0).close());
            assertEquals("/snapshots/big: region ram has " + pageSize + "-byte pages, not a power of two of at most 16777216 "
                    + "bytes (what is read at a time)", e.getMessage());
        }
    }

    /** A reader of one 1 GiB region of {@code pageSize}-byte pages, all absent. */
    private static SnapshotReader reader(int pageSize) {
        return new SnapshotReader() {
            @Override
            public Path file() {
                return Path.of("/snapshots/big");
            }

            @Override
            public String format() {
                return "test";
            }

            @Override
            public int version() {
                return 1;
            }

            @Override
            public Optional<MachineState> state() {
                return Optional.empty();
            }

            @Override
            public SnapshotOrigin origin() {
                return new SnapshotOrigin("test", List.of(), List.of());
            }

            @Override
            public List<SnapshotRegion> regions() {
                return List.of(new SnapshotRegion("ram", 0, 1L << 30, pageSize, 0));
            }

            @Override
            public boolean isPresent(int region, long page) {
                return false;
            }

            @Override
            public void readPages(int region, long firstPage, long count, MemorySegment target) {
                target.fill((byte) 0);
            }

            @Override
            public void close() {}
        };
    }
}
