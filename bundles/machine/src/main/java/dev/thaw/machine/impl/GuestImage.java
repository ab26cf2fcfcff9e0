package dev.thaw.machine.impl;

import dev.thaw.api.snapshot.GuestInfo;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The test guest's flat image and the facts its header states (guest/README.md has the boot ABI).
 *
 * @param bytes the image, loaded at {@link #LOAD_ADDRESS}
 * @param reservedEnd where the guest's own pages end; workloads use RAM from here on
 * @param maxVcpus how many vCPUs the guest supports
 */
record GuestImage(byte[] bytes, long reservedEnd, int maxVcpus) {

    static final long LOAD_ADDRESS = 0x100000;
    static final long ENTRY = LOAD_ADDRESS;
    static final long MAGIC = 0x3154534757414854L; // "THAWGST1"
    static final int HEADER_OFFSET = 0x10;
    static final String RESOURCE = "/thaw-guest.bin";

    static GuestImage parse(String name, byte[] bytes) {
        if (bytes.length < HEADER_OFFSET + 32) {
            throw new IllegalStateException(name + ": too short for a guest image (" + bytes.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(HEADER_OFFSET) != MAGIC) {
            throw new IllegalStateException(name + ": no THAWGST1 header at offset 0x10");
        }
        long version = b.getLong(HEADER_OFFSET + 8);
        if (version != 1) {
            throw new IllegalStateException(name + ": guest header version " + version + ", this VMM knows 1");
        }
        long reservedEnd = b.getLong(HEADER_OFFSET + 16);
        long maxVcpus = b.getLong(HEADER_OFFSET + 24);
        if (reservedEnd < LOAD_ADDRESS + bytes.length || reservedEnd % (2 << 20) != 0 || maxVcpus < 1 || maxVcpus > 1024) {
            throw new IllegalStateException(name + ": implausible header (reserved_end " + reservedEnd + ", max_vcpus " + maxVcpus + ")");
        }
        return new GuestImage(bytes, reservedEnd, (int) maxVcpus);
    }

    static final String GUEST_NAME = "thaw-test-guest";

    /** Names this image in snapshots. */
    GuestInfo info() {
        try {
            return new GuestInfo(GUEST_NAME, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /** The image this bundle carries. */
    static GuestImage bundled() {
        try (InputStream in = GuestImage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the machine bundle lacks " + RESOURCE);
            }
            return parse(RESOURCE, in.readAllBytes());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }
}
