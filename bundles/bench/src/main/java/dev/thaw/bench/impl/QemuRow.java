package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchRequest;
import dev.thaw.api.bench.BenchRow;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The peer row: QEMU's own eager load of a mapped-ram file holding as much non-zero memory as the
 * snapshot (its present pages, in order), in a guest of the same size, measured in the same run.
 */
final class QemuRow {

    private static final long CHUNK_PAGES = 1024;

    private QemuRow() {}

    static BenchRow measure(SnapshotFormats formats, Path snapshot, BenchRequest request, long presentBytes,
            Consumer<String> progress, List<String> notes) {
        Optional<String> missing = QemuPeer.unavailable();
        if (missing.isPresent()) {
            String why = "qemu row skipped: " + missing.get();
            notes.add(why);
            return skipped(why);
        }
        Path dir = snapshot.resolveSibling("qemu");
        try {
            Files.createDirectories(dir);
            Path data = dir.resolve("memory.raw");
            writePresentPages(formats, snapshot, data);
            progress.accept("qemu: making a mapped-ram file with the same " + (presentBytes >> 20) + " MiB of non-zero memory");
            Path file = QemuPeer.makeFile(dir, request.memoryBytes(), data);
            Files.delete(data);
            QemuPeer.timeLoad(file, request.memoryBytes()); // warm-up, as for the other modes
            List<Double> loads = new ArrayList<>();
            for (int round = 1; round <= request.repeat(); round++) {
                progress.accept("qemu: load " + round + " of " + request.repeat());
                loads.add(RestoreBench.ms(QemuPeer.timeLoad(file, request.memoryBytes())));
            }
            Files.delete(file);
            Files.delete(dir);
            Double load = Median.of(loads);
            return new BenchRow(RestoreBench.QEMU, null, null, null, null, null, null, null, null, null, null, null, load,
                    presentBytes / 1e3 / load, "QEMU " + QemuPeer.version() + ": migrate-incoming of a mapped-ram file until "
                            + "the MIGRATION event says completed (it resumes only after that)");
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot write the qemu input under " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            String why = "qemu row failed: " + e.getMessage();
            notes.add(why);
            return skipped(why);
        }
    }

    private static BenchRow skipped(String why) {
        return new BenchRow(RestoreBench.QEMU, null, null, null, null, null, null, null, null, null, null, null, null, null, why);
    }

    /** The snapshot's present pages, back to back: the same non-zero bytes, without the holes. */
    private static void writePresentPages(SnapshotFormats formats, Path snapshot, Path data) throws IOException {
        try (SnapshotReader reader = formats.open(snapshot); Arena arena = Arena.ofConfined();
                FileChannel out = FileChannel.open(data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            MemorySegment page = arena.allocate(4096, 4096);
            MemorySegment chunk = arena.allocate(CHUNK_PAGES * 4096, 4096);
            long filled = 0;
            for (int r = 0; r < reader.regions().size(); r++) {
                long pages = reader.regions().get(r).size() / 4096;
                for (long p = 0; p < pages; p++) {
                    if (!reader.isPresent(r, p)) {
                        continue;
                    }
                    reader.readPages(r, p, 1, page);
                    MemorySegment.copy(page, 0, chunk, filled * 4096, 4096);
                    if (++filled == CHUNK_PAGES) {
                        write(out, chunk, filled);
                        filled = 0;
                    }
                }
            }
            write(out, chunk, filled);
        }
    }

    private static void write(FileChannel out, MemorySegment chunk, long pages) throws IOException {
        var buffer = chunk.asSlice(0, pages * 4096).asByteBuffer();
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
