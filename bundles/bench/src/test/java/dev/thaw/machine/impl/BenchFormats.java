package dev.thaw.machine.impl;

import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotFormats;

/** The platform's format registry with {@code formats} bound as DS binds them (its bind method is package-private). */
public final class BenchFormats {

    private BenchFormats() {}

    public static SnapshotFormats of(SnapshotFormat... formats) {
        SnapshotFormatRegistry registry = new SnapshotFormatRegistry();
        for (SnapshotFormat f : formats) {
            registry.addFormat(f);
        }
        return registry;
    }
}
