package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.snapshot.SnapshotFormats;

/** The qemu-postcopy bundle's PostcopyServer component with {@code policies} bound as DS binds them. */
public final class BenchPostcopyServer {

    private BenchPostcopyServer() {}

    public static PostcopyServer of(SnapshotFormats formats, PagePolicy... policies) {
        QemuPostcopyServer server = new QemuPostcopyServer(formats);
        for (PagePolicy p : policies) {
            server.addPolicy(p);
        }
        return server;
    }
}
