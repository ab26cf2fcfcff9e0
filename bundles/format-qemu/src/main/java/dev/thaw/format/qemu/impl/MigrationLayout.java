package dev.thaw.format.qemu.impl;

import java.util.Optional;
import java.util.UUID;

/**
 * Where a mapped-ram file holds what a migration source copies into its own stream (docs/qemu-postcopy.md
 * section 11).
 *
 * @param ramSection the RAM section's id, as its START header gives it
 * @param ramVersion the RAM section's version (QEMU's {@code ram} is version 4)
 * @param uuid the VM's UUID, where the configuration section has one
 * @param devicesStart the first device section's first byte; -1 when the device sections cannot be delimited
 *     (no section footers to walk them by, or commands or RAM parts among them)
 * @param devicesEnd the EOF byte after the last device section; -1 as for {@code devicesStart}
 */
record MigrationLayout(long ramSection, long ramVersion, Optional<UUID> uuid, long devicesStart, long devicesEnd) {}
