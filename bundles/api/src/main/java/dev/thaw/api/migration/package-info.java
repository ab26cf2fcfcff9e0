/**
 * Thaw as the source of a QEMU postcopy migration: a QEMU mapped-ram file served to an incoming QEMU that
 * someone else started (libvirt and the like), the pages in a page policy's order
 * ({@code docs/qemu-postcopy.md}, "Serving your own QEMU").
 */
@Export
@Version("1.1.0")
package dev.thaw.api.migration;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
