package dev.thaw.format.qemu;

import java.util.Optional;
import java.util.UUID;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A QEMU mapped-ram file as a migration source copies it into a stream of its own (docs/qemu-postcopy.md
 * section 11): the machine type, capabilities, RAM blocks and pages come from the {@code SnapshotReader} that
 * implements this; the rest from here.
 */
@ProviderType
public interface QemuMigrationFile {

    /** The RAM section's id, as the file's START header gives it: a stream must continue the section under it. */
    long ramSectionId();

    /** The RAM section's version (4 for every QEMU that writes mapped-ram). */
    long ramSectionVersion();

    /** The VM's UUID from the configuration section's {@code configuration/uuid}, where the file has one. */
    Optional<UUID> uuid();

    /**
     * The device sections, byte for byte: from the first device section after the RAM section up to, not
     * including, the stream's EOF byte.
     *
     * @throws dev.thaw.api.snapshot.SnapshotException naming the file, when it does not delimit them (no section
     *     footers, or commands among them) or they cannot be read
     */
    byte[] deviceSections();
}
