package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A {@link PostcopySource} with its name and the reader it serves from, which closing releases after it. */
final class ServedFile implements PostcopyServe {

    private final String id;
    private final String destination;
    private final SnapshotReader reader;
    private final PostcopySource source;
    private boolean closed; // guarded by this

    ServedFile(String id, String destination, SnapshotReader reader, PostcopySource source) {
        this.id = id;
        this.destination = destination;
        this.reader = reader;
        this.source = source;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Path file() {
        return reader.file();
    }

    @Override
    public String destination() {
        return destination;
    }

    @Override
    public RestoreStats stats() {
        return source.stats();
    }

    @Override
    public long bytesSent() {
        return source.bytesSent();
    }

    @Override
    public CompletableFuture<RestoreStats> completion() {
        return source.completion();
    }

    @Override
    public void startBackground() {
        source.startBackground();
    }

    @Override
    public void loadRemaining() {
        source.loadRemaining();
    }

    @Override
    public Path saveProfile() {
        return source.saveProfile();
    }

    @Override
    public Optional<Path> savedProfile() {
        return source.savedProfile();
    }

    @Override
    public List<String> warnings() {
        return source.warnings();
    }

    /** The source's threads end before the reader closes: they may be reading pages until then. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            source.close();
            reader.close();
        }
    }
}
