package dev.thaw.qemu.impl;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.api.snapshot.SessionState;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.vm.BootRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;

/**
 * What a QEMU mapped-ram file of the qemu runtime does not hold, kept beside it as {@code FILE.session.json}: the
 * guest's boot request and QEMU machine (the incoming QEMU must be started with the same), and the host side of
 * its session (console history, invocations, and the console input QEMU had not read yet, which the restored guest
 * is sent first). It names the snapshot's size and modification time, so that a
 * snapshot replaced since is not restored with another's session.
 *
 * @param version this file's layout, {@value #VERSION}
 * @param request what the guest was booted with; its {@code residentBytes} and {@code writePercent}, absent from files
 *     written before requests had them, read as {@link BootRequest#RESIDENT_AS_WORKING_SET} and
 *     {@link BootRequest#WRITE_ALL}
 * @param machine the QEMU machine it runs on
 * @param session its console history and invocations at the snapshot
 * @param unreadInput console input sent before the snapshot that QEMU had not read (in JSON as base64); layout 1
 *     has none
 * @param offset the byte of the snapshot's file its stream starts at (QEMU's {@code file:PATH,offset=N}); layout 1
 *     has 0
 * @param snapshotBytes the snapshot file's length
 * @param snapshotModified the snapshot's modification time, in milliseconds since the epoch
 */
record SessionFile(int version, BootRequest request, QemuMachine machine, SessionState session, byte[] unreadInput,
        long offset, long snapshotBytes, long snapshotModified) {

    static final int VERSION = 2;
    /** The layout before {@code unreadInput}, still read. */
    static final int VERSION_WITHOUT_INPUT = 1;
    static final String SUFFIX = ".session.json";
    /** A session file is small (1 MiB of console history at most, as JSON); more is not one of ours. */
    static final long MAX_BYTES = 16L << 20;
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    static Path of(Path snapshot) {
        return snapshot.resolveSibling(snapshot.getFileName() + SUFFIX);
    }

    /** This session for {@code snapshot} as it is now (written, not yet renamed into place: renaming keeps both). */
    static SessionFile describing(Path snapshot, long offset, BootRequest request, QemuMachine machine, SessionState session,
            byte[] unreadInput) throws IOException {
        return new SessionFile(VERSION, request, machine, session, unreadInput, offset, Files.size(snapshot),
                Files.getLastModifiedTime(snapshot).toMillis());
    }

    /** The input to send the restored guest before any other: none in a file of layout 1. */
    byte[] unreadInputOrNone() {
        return unreadInput == null ? new byte[0] : unreadInput;
    }

    /** Writes it as the session of {@code snapshot}, replacing an older one at once. */
    void writeFor(Path snapshot) throws IOException {
        Path target = of(snapshot);
        Path part = target.resolveSibling("." + target.getFileName() + ".part");
        try {
            JSON.writeValue(part.toFile(), this);
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /**
     * The session of the snapshot at byte {@code offset} of {@code snapshot}, checked against it.
     *
     * @throws SnapshotException when there is none, it is damaged, it belongs to an earlier file of that name or to
     *     a stream at another offset
     */
    static SessionFile readFor(Path snapshot, long offset) {
        Path file = of(snapshot);
        SessionFile s;
        try {
            if (!Files.isRegularFile(file)) {
                throw new SnapshotException(snapshot, "was not saved by Thaw's qemu runtime (no " + file.getFileName()
                        + " beside it names its guest); serve it to a QEMU you start with thaw:restore --serve");
            }
            if (Files.size(file) > MAX_BYTES) {
                throw new SnapshotException(file, "is " + Files.size(file) + " bytes, more than a session file holds");
            }
            s = JSON.treeToValue(withAddedRequestFields(JSON.readTree(file.toFile())), SessionFile.class);
        } catch (JacksonException e) {
            throw new SnapshotException(file, "is not a session file: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IllegalArgumentException e) {
            throw new SnapshotException(file, "is not a session file: " + e.getMessage());
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot be read: " + e.getMessage());
        }
        if (s == null || (s.version != VERSION && s.version != VERSION_WITHOUT_INPUT)) {
            throw new SnapshotException(file, "has layout version " + (s == null ? "none" : s.version) + "; this Thaw reads "
                    + VERSION_WITHOUT_INPUT + " and " + VERSION);
        }
        if (s.version == VERSION && s.unreadInput == null) {
            throw new SnapshotException(file, "lacks its unreadInput");
        }
        if (s.request == null || s.machine == null || s.session == null) {
            throw new SnapshotException(file, "lacks its request, machine or session");
        }
        if (s.offset != offset) {
            throw new SnapshotException(snapshot, "holds its session's stream at byte " + s.offset + " (file:" + snapshot
                    + ",offset=" + s.offset + "), not at " + offset);
        }
        try {
            long size = Files.size(snapshot);
            FileTime modified = Files.getLastModifiedTime(snapshot);
            if (size != s.snapshotBytes || modified.toMillis() != s.snapshotModified) {
                throw new SnapshotException(snapshot, "has changed since " + file.getFileName() + " was written with it ("
                        + size + " bytes now, " + s.snapshotBytes + " then): it is not the snapshot that session belongs to");
            }
        } catch (IOException e) {
            throw new SnapshotException(snapshot, "cannot be read: " + e.getMessage());
        }
        return s;
    }

    /**
     * The session with its request's fields added since put in where a file written before them lacks them: such a guest
     * kept its working set alone and wrote every page it read. (Every other missing number is still refused: the mapper
     * is strict about them.)
     */
    private static JsonNode withAddedRequestFields(JsonNode session) {
        if (session != null && session.get("request") instanceof ObjectNode request) {
            if (!request.has("residentBytes")) {
                request.put("residentBytes", BootRequest.RESIDENT_AS_WORKING_SET);
            }
            if (!request.has("writePercent")) {
                request.put("writePercent", BootRequest.WRITE_ALL);
            }
        }
        return session;
    }
}
