/**
 * What a QEMU migration source needs of a mapped-ram file beyond the pages its {@code SnapshotReader} serves:
 * the RAM section's header and the device sections' bytes (docs/qemu-postcopy.md section 11). A reader of the
 * {@code qemu-mapped-ram} format implements {@link dev.thaw.format.qemu.QemuMigrationFile}.
 */
@Export
@Version("1.0.0")
package dev.thaw.format.qemu;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
