package dev.thaw.format.qemu.impl;

import dev.thaw.api.snapshot.SnapshotDevice;
import java.util.List;

/**
 * What the stream of a mapped-ram file says.
 *
 * @param machine the machine type (QEMU's {@code -M}, as the configuration section names it)
 * @param capabilities the migration capabilities the configuration section lists
 * @param blocks the RAM blocks, in stream order
 * @param devices the device sections, from the VMDESCRIPTION JSON where the file has one, else from the
 *     section headers where section footers let them be walked; empty when neither
 * @param devicesFrom {@code vmdescription}, {@code sections}, or {@code none}
 * @param layout where the RAM section's header and the device sections are, for a migration source
 */
record QemuStream(String machine, List<String> capabilities, List<RamBlock> blocks, List<SnapshotDevice> devices,
        String devicesFrom, MigrationLayout layout) {}
