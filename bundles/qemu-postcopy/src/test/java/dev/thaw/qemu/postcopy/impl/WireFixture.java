package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.samples.impl.PackedSamples;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What a wire test serves from and to: the pc sample QEMU 10 wrote (32 MiB, VGA), open and checked, and a
 * {@link RecordingDestination} that follows a script. Closing closes both.
 */
final class WireFixture implements AutoCloseable {

    final Path sample;
    final SnapshotReader reader;
    final MigrationFile file;
    final RecordingDestination destination;

    private WireFixture(Path sample, SnapshotReader reader, MigrationFile file, RecordingDestination destination) {
        this.sample = sample;
        this.reader = reader;
        this.file = file;
        this.destination = destination;
    }

    /** The sample written into {@code dir}, and a destination listening there that follows {@code script}. */
    static WireFixture of(Path dir, RecordingDestination.Script script) throws IOException {
        Path sample = new PackedSamples().write("qemu-pc.mr", dir);
        SnapshotReader reader = new QemuMappedRamFormat().open(sample);
        try {
            return new WireFixture(sample, reader, MigrationFile.of(reader), new RecordingDestination(dir, script));
        } catch (IOException | RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    /** The page number across all blocks of {@code r}. */
    long pageOf(RecordingDestination.PageRecord r) {
        return file.block(r.block()).orElseThrow().firstPage() + r.page();
    }

    @Override
    public void close() throws IOException {
        try {
            destination.close();
        } finally {
            reader.close();
        }
    }
}
