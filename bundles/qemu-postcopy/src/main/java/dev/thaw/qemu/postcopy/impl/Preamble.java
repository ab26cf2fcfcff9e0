package dev.thaw.qemu.postcopy.impl;

import java.nio.ByteBuffer;

/**
 * Everything a postcopy source sends before its first page, for a file (docs/qemu-postcopy.md sections 2 and 7).
 *
 * <p>Ordering: header and configuration first (the destination reads them before anything else);
 * OPEN_RETURN_PATH before ADVISE (and before any PING); ADVISE before RAM START (the destination reads a block's
 * page size field only after ADVISE); at least one discard after RAM START and before the package (see
 * {@link #of}); the package last, LISTEN first in it (pages requested while its devices load must take the
 * postcopy path) and RUN last. Pages to preload go between the discards and the package ({@link #head} then
 * {@link #packaged}): the destination's main thread loads them as precopy pages, into RAM not yet registered.
 */
final class Preamble {

    /** The PING before RUN in the package: its PONG says the device state is loaded (the vCPUs start next). */
    static final int PING_DEVICES_LOADED = 3;

    private Preamble() {}

    static ByteBuffer of(MigrationFile file) {
        ByteBuffer head = head(file);
        ByteBuffer pkg = packaged(file);
        return ByteBuffer.allocate(head.remaining() + pkg.remaining()).put(head).put(pkg).flip();
    }

    static ByteBuffer head(MigrationFile file) {
        StreamWriter out = new StreamWriter(4096)
                .header()
                .configuration(file.machine(), file.capabilities(), file.uuid())
                .openReturnPath()
                .postcopyAdvise()
                .ramStart(file.ramSectionId(), file.blocks());
        // One whole-block discard per block, as QEMU sends for blocks it never sent. QEMU 10.0.2 needs at least
        // one: without, LISTEN leaves the destination in its DISCARD state, and a page that arrives before RUN is
        // copied into registered memory and deadlocks it (section 8). Its RAM is empty already: nothing is lost.
        for (SourceBlock b : file.blocks()) {
            out.discard(b, 0, b.usedLength());
        }
        return out.bytes();
    }

    static ByteBuffer packaged(MigrationFile file) {
        byte[] devices = file.deviceSections();
        StreamWriter out = new StreamWriter(devices.length + 64);
        StreamWriter nested = new StreamWriter(devices.length + 64)
                .postcopyListen()
                .raw(devices)
                .ping(PING_DEVICES_LOADED)
                .postcopyRun();
        return out.packaged(nested.bytes()).bytes();
    }

    /** What ends the stream once every page is sent: RAM END, then EOF. */
    static ByteBuffer end(long ramSectionId) {
        return new StreamWriter(32).ramEnd(ramSectionId).eof().bytes();
    }
}
