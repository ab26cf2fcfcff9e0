package dev.thaw.format.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded mutation fuzzer over the committed QEMU samples (the corpus): bytes of the stream's structure
 * (header, configuration, block headers, bitmaps, section framing, device sections, description) are
 * flipped, overwritten with edge values, or the file is cut. Every mutant either opens and reads all its
 * pages, or is refused with a one-line {@link SnapshotException} naming it; nothing else is thrown and
 * nothing hangs.
 */
class QemuMutationTest {

    static final int MUTANTS_PER_SAMPLE = 300;
    static final Duration PER_MUTANT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final QemuMappedRamFormat format = new QemuMappedRamFormat();

    @Test
    void everyMutantOpensAndReadsOrIsRefusedInOneLine() throws Exception {
        int refused = 0;
        int opened = 0;
        for (String sample : List.of("qemu-microvm.mr", "qemu-pc.mr")) {
            Path original = Samples.write(sample, dir);
            List<long[]> areas = structure(original);
            Random random = new Random(sample.hashCode());
            for (int i = 0; i < MUTANTS_PER_SAMPLE; i++) {
                Path mutant = dir.resolve("mutant");
                Files.deleteIfExists(mutant);
                Files.copy(original, mutant);
                String how = mutate(mutant, areas, random);
                boolean ok = assertTimeoutPreemptively(PER_MUTANT, () -> openAndRead(mutant, how));
                if (ok) {
                    opened++;
                } else {
                    refused++;
                }
            }
        }
        assertTrue(refused > MUTANTS_PER_SAMPLE / 2, "most mutants of the stream's structure are refused: " + refused);
        assertTrue(opened > 0, "some mutants (in device state, say) still open: " + opened);
    }

    /** True when it opened and every page read; false when refused properly. */
    private boolean openAndRead(Path file, String how) {
        try (SnapshotReader r = format.open(file)) {
            try (Arena arena = Arena.ofConfined()) {
                for (int i = 0; i < r.regions().size(); i++) {
                    SnapshotRegion g = r.regions().get(i);
                    long chunk = Math.min(g.pages(), 1024);
                    MemorySegment buffer = arena.allocate(chunk * g.pageSize());
                    for (long p = 0; p < g.pages(); p += chunk) {
                        long n = Math.min(chunk, g.pages() - p);
                        r.readPages(i, p, n, buffer.asSlice(0, n * g.pageSize()));
                    }
                }
            }
            r.origin();
            return true;
        } catch (SnapshotException e) {
            assertTrue(e.getMessage().startsWith(file + ": ") && !e.getMessage().contains("\n"), how + ": " + e.getMessage());
            return false;
        }
    }

    /** The byte ranges of the sample that are stream structure, not page contents: [from, to). */
    private static List<long[]> structure(Path file) throws Exception {
        List<long[]> areas = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file)) {
            long size = ch.size();
            QemuStream s = StreamParser.parse(new Cursor(ch, size, 0));
            areas.add(new long[] {0, s.blocks().getFirst().bitmapOffset() + 64});
            long end = 0;
            for (RamBlock b : s.blocks()) {
                areas.add(new long[] {b.bitmapOffset() - 64, b.bitmapOffset() + Math.min(b.bitmapBytes(), 64)});
                end = Math.max(end, b.pagesOffset() + b.usedLength());
            }
            areas.add(new long[] {end, size}); // RAM section's end, device sections, description
        }
        return areas;
    }

    private static String mutate(Path file, List<long[]> areas, Random random) throws Exception {
        long[] area = areas.get(random.nextInt(areas.size()));
        long at = area[0] + (long) (random.nextDouble() * (area[1] - area[0]));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            switch (random.nextInt(4)) {
                case 0 -> {
                    ch.truncate(at);
                    return "cut at " + at;
                }
                case 1 -> {
                    int bit = random.nextInt(8);
                    ByteBuffer b = ByteBuffer.allocate(1);
                    try (FileChannel r = FileChannel.open(file)) {
                        r.read(b, at);
                    }
                    ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ (1 << bit))}), at);
                    return "bit " + bit + " of byte " + at + " flipped";
                }
                case 2 -> {
                    byte[] edge = {0, (byte) 0xff, 0x7f, (byte) 0x80, 0x7e, 0x04, 0x10};
                    ch.write(ByteBuffer.wrap(new byte[] {edge[random.nextInt(edge.length)]}), at);
                    return "byte " + at + " set to an edge value";
                }
                default -> {
                    long[] values = {0, -1, Long.MAX_VALUE, 1L << 40, 4095, 4097, ch.size(), ch.size() + 4096};
                    ch.write(ByteBuffer.allocate(8).putLong(0, values[random.nextInt(values.length)]), at);
                    return "8 bytes at " + at + " set to an edge value";
                }
            }
        }
    }
}
