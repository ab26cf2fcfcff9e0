package dev.thaw.machine.impl;

import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotFormats;

/**
 * The platform's {@link SnapshotFormats} (machine's registry) with {@code formats} added as DS adds the installed
 * ones: in this package for the registry's package-private bind method.
 */
public final class InstalledFormats {

    private InstalledFormats() {}

    public static SnapshotFormats of(SnapshotFormat... formats) {
        SnapshotFormatRegistry registry = new SnapshotFormatRegistry();
        for (SnapshotFormat f : formats) {
            registry.addFormat(f);
        }
        return registry;
    }
}
