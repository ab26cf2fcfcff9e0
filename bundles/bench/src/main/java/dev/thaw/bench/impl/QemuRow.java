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
final class QemuRow implements PeerRow {

    private static final long CHUNK_PAGES = 1024;

    private final long memoryBytes;
    private final long presentBytes;
    private final long warmBytes;
    private final List<Double> loads = new ArrayList<>();
    private Path dir;
    private Path file;
    /** Why there is no row, or null. */
    private String missing;

    private QemuRow(long memoryBytes, long presentBytes, long warmBytes) {
        this.memoryBytes = memoryBytes;
        this.presentBytes = presentBytes;
        this.warmBytes = warmBytes;
    }

    /**
     * Makes QEMU's file from the snapshot's present pages, or notes why there will be no row. {@code warmBytes}: the
     * host memory each load starts warm with ({@link HostBacking}).
     */
    static QemuRow prepare(SnapshotFormats formats, Path snapshot, BenchRequest request, long presentBytes, long warmBytes,
            Consumer<String> progress) {
        QemuRow q = new QemuRow(request.memoryBytes(), presentBytes, warmBytes);
        Optional<String> unavailable = QemuPeer.unavailable();
        if (unavailable.isPresent()) {
            q.missing = "qemu row skipped: " + unavailable.get();
            return q;
        }
        q.dir = snapshot.resolveSibling("qemu");
        try {
            Files.createDirectories(q.dir);
            Path data = q.dir.resolve("memory.raw");
            writePresentPages(formats, snapshot, data);
            progress.accept("qemu: making a mapped-ram file with the same " + (presentBytes >> 20) + " MiB of non-zero memory");
            q.file = QemuPeer.makeFile(q.dir, request.memoryBytes(), data);
            Files.delete(data);
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot write the qemu input under " + q.dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            q.missing = "qemu row failed: " + e.getMessage();
        }
        return q;
    }

    /** One timed load by a fresh QEMU, counted in the median when {@code counted}. */
    @Override
    public void measure(boolean counted) {
        if (missing != null) {
            return;
        }
        try {
            HostBacking.warm(warmBytes);
            double ms = RestoreBench.ms(QemuPeer.timeLoad(file, memoryBytes));
            if (counted) {
                loads.add(ms);
            }
        } catch (IOException | RuntimeException e) {
            missing = "qemu row failed: " + e.getMessage();
        }
    }

    /** The row (medians of the counted loads); removes QEMU's file. */
    @Override
    public BenchRow row(List<String> notes) {
        delete();
        if (missing != null) {
            notes.add(missing);
            return new BenchRow(RestoreBench.QEMU, null, null, null, null, null, null, null, null, null, null, null, null,
                    null, missing);
        }
        Double load = Median.of(loads);
        return new BenchRow(RestoreBench.QEMU, null, null, null, null, null, null, null, null, null, null, null, load,
                presentBytes / 1e3 / load, "QEMU " + QemuPeer.version() + ": migrate-incoming of a mapped-ram file until "
                        + "the MIGRATION event says completed (it resumes only after that)");
    }

    /** Removes QEMU's file and folder, if made. Idempotent. */
    @Override
    public void delete() {
        try {
            if (file != null) {
                Files.deleteIfExists(file);
            }
            if (dir != null) {
                Files.deleteIfExists(dir.resolve("memory.raw"));
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot remove " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The snapshot's present pages, back to back: the same non-zero bytes, without the holes. */
    private static void writePresentPages(SnapshotFormats formats, Path snapshot, Path data) throws IOException {
        try (SnapshotReader reader = formats.open(snapshot); Arena arena = Arena.ofConfined();
                FileChannel out = FileChannel.open(data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            MemorySegment read = arena.allocate(CHUNK_PAGES * 4096, 4096);
            MemorySegment present = arena.allocate(CHUNK_PAGES * 4096, 4096);
            for (int r = 0; r < reader.regions().size(); r++) {
                long pages = reader.regions().get(r).size() / 4096;
                for (long first = 0; first < pages; first += CHUNK_PAGES) {
                    long count = Math.min(CHUNK_PAGES, pages - first);
                    reader.readPages(r, first, count, read); // one read per run of present pages, holes as zeros
                    long kept = 0;
                    for (long p = 0; p < count; p++) {
                        if (reader.isPresent(r, first + p)) {
                            MemorySegment.copy(read, p * 4096, present, kept++ * 4096, 4096);
                        }
                    }
                    write(out, present, kept);
                }
            }
        }
    }

    private static void write(FileChannel out, MemorySegment chunk, long pages) throws IOException {
        var buffer = chunk.asSlice(0, pages * 4096).asByteBuffer();
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
