package dev.thaw.format.thaw.impl;

import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotReader;
import java.nio.file.Path;
import java.util.Arrays;
import org.osgi.service.component.annotations.Component;

/** Reads Thaw snapshot files (docs/snapshot-format.md); recognises them by their magic {@code THAWSNAP}. */
@Component(service = SnapshotFormat.class, property = SnapshotFormat.NAME_PROPERTY + "=" + ThawSnapshotFormat.NAME)
public final class ThawSnapshotFormat implements SnapshotFormat {

    static final String NAME = "thaw";

    private final StateCache states = new StateCache();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Thaw snapshot: JSON machine state, sparse page areas with CRC32C page checksums";
    }

    @Override
    public boolean probe(byte[] head) {
        return head.length >= Layout.MAGIC.length
                && Arrays.equals(head, 0, Layout.MAGIC.length, Layout.MAGIC, 0, Layout.MAGIC.length);
    }

    @Override
    public SnapshotReader open(Path file) {
        return ThawSnapshotReader.open(file, states);
    }
}
