package dev.thaw.format.qemu.impl;

import dev.thaw.format.qemu.MigrationStream;
import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotReader;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.osgi.service.component.annotations.Component;

/**
 * Reads the files QEMU 9 and later write with {@code migrate_set_capability mapped-ram on} and
 * {@code migrate file:PATH} (docs/qemu-mapped-ram.md). Any QEMU migration stream is recognised by its magic,
 * so that one written without mapped-ram is refused with a message that says how to save it again.
 */
@Component(service = SnapshotFormat.class, property = SnapshotFormat.NAME_PROPERTY + "=" + QemuMappedRamFormat.NAME)
public final class QemuMappedRamFormat implements SnapshotFormat {

    static final String NAME = "qemu-mapped-ram";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "QEMU 9+ migration file with the mapped-ram capability: RAM blocks with page bitmaps, pages at fixed offsets";
    }

    @Override
    public boolean probe(byte[] head) {
        return head.length >= 8 && ByteBuffer.wrap(head).getInt(0) == (int) MigrationStream.MAGIC;
    }

    @Override
    public SnapshotReader open(Path file) {
        return QemuMappedRamReader.open(file, 0);
    }

    /** Offsets in the stream are file offsets, so only where it starts changes. */
    @Override
    public SnapshotReader open(Path file, long offset) {
        return QemuMappedRamReader.open(file, offset);
    }
}
