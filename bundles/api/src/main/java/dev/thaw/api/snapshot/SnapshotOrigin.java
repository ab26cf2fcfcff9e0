package dev.thaw.api.snapshot;

import java.util.List;

/**
 * What a snapshot file tells of the machine it was taken from, besides its memory (for inspection).
 *
 * @param machine the machine type: QEMU's (e.g. {@code pc-q35-10.0}), or the Thaw guest's name
 * @param capabilities migration capabilities the file was written with (QEMU's, e.g. {@code mapped-ram}); may be empty
 * @param devices the device states the file holds, in file order
 */
public record SnapshotOrigin(String machine, List<String> capabilities, List<SnapshotDevice> devices) {

    public SnapshotOrigin {
        capabilities = List.copyOf(capabilities);
        devices = List.copyOf(devices);
    }
}
