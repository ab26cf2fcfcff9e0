package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.support.profile.FirstTouches;
import dev.thaw.support.profile.ProfileCache;
import dev.thaw.support.profile.Profiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A serve's working-set profiles (docs/working-set-profile.md), in the restore engine's file format and with its
 * rules: the profile read for the policy, ignored with a one-line warning when it was recorded on another
 * snapshot or cannot be read; and the one recorded from the destination's page requests, each page at its first
 * request (the guest's first touch, its vCPU unknown), written when the destination completes or when asked.
 * The sending thread reads the profile, the return-path thread records, any thread saves.
 */
final class ServeProfile {

    private static final Logger LOG = LoggerFactory.getLogger(ServeProfile.class);

    private final ProfileCache cache;
    private final Path snapshot;
    private final long pages;
    private final Path readFrom;
    private final Path recordTo;
    /** Pages in first-request order; guarded by itself, as is {@link #recording}. */
    private final FirstTouches requested = new FirstTouches();
    private boolean recording;
    private volatile Optional<WorkingSet> workingSet = Optional.empty();
    private volatile Path saved;
    private volatile String snapshotId;
    private final List<String> warnings = new CopyOnWriteArrayList<>();

    /**
     * @param snapshot the file served, whose identity a profile carries
     * @param pages its pages, all RAM blocks
     * @param readFrom the profile to read, or null
     * @param recordTo where to write the recorded profile, or null to record none
     */
    /** With no cache: each serve parses its profile (tests). */
    ServeProfile(Path snapshot, long pages, Path readFrom, Path recordTo) {
        this(snapshot, pages, readFrom, recordTo, new ProfileCache());
    }

    /** {@code cache}: the profiles the server parsed before, which a serve of the same snapshot need not parse again. */
    ServeProfile(Path snapshot, long pages, Path readFrom, Path recordTo, ProfileCache cache) {
        this.cache = cache;
        this.snapshot = snapshot;
        this.pages = pages;
        this.readFrom = readFrom;
        this.recordTo = recordTo;
        this.recording = recordTo != null;
    }

    /** Neither read nor recorded. */
    static ServeProfile none(MigrationFile file) {
        return new ServeProfile(file.file(), file.pages(), null, null);
    }

    /**
     * Reads the profile to read, if the request names one and it exists: once, before the policy starts (its start
     * is timed, and parsing a profile is not the policy's time). One of another snapshot or that cannot be read is
     * left out with a warning.
     */
    void read() {
        if (readFrom == null || !Files.exists(readFrom)) {
            return;
        }
        List<String> found = new ArrayList<>();
        try {
            // Parsed on the sender before the policy opens, while requests from the destination's device load wait:
            // the cache keeps a restore of the same snapshot from paying for it again.
            workingSet = cache.read(readFrom, snapshotId(), Protocol.PAGE_SIZE, pages, found);
        } catch (RuntimeException e) { // the snapshot's identity could not be read
            found.add(readFrom + ": not read, " + e.getMessage() + "; ignored");
        }
        found.forEach(LOG::warn);
        warnings.addAll(found);
    }

    /** The profile read, for the policy's view; empty when none was named, found or usable. */
    Optional<WorkingSet> workingSet() {
        return workingSet;
    }

    /** The destination asked for {@code count} pages from {@code first}: each logged at its first request while recording. */
    void requested(long first, long count) {
        synchronized (requested) {
            for (long p = first; recording && p < first + count; p++) {
                requested.touch(p);
            }
        }
    }

    /**
     * Ends recording and writes the profile.
     *
     * @throws IllegalStateException if it does not record (any more)
     * @throws dev.thaw.api.restore.RestoreException if the file cannot be written
     */
    Path save() {
        Recorded r = endRecording();
        if (r == null) {
            throw new IllegalStateException(recordTo == null ? "this serve records no working-set profile"
                    : "this serve records no working-set profile any more (saved, or it ended without completing)");
        }
        return write(r);
    }

    /** The destination completed: the profile is written if it still records; a failure to is a warning. */
    void completed() {
        Recorded r = endRecording();
        if (r != null) {
            try {
                write(r);
            } catch (RuntimeException e) {
                LOG.warn(e.getMessage());
                warnings.add(e.getMessage());
            }
        }
    }

    private record Recorded(List<PageRange> runs, long pages) {}

    /** What was recorded, recording ended; null if it did not record (any more). */
    private Recorded endRecording() {
        synchronized (requested) {
            if (!recording) {
                return null;
            }
            recording = false;
            return new Recorded(requested.runs(), requested.count());
        }
    }

    private Path write(Recorded r) {
        Profiles.write(recordTo, snapshotId(), snapshot, Protocol.PAGE_SIZE, pages, r.pages(), r.runs());
        saved = recordTo;
        LOG.info("{}: working-set profile of {} requested pages written to {}", snapshot, r.pages(), recordTo);
        return recordTo;
    }

    /** The serve failed or was closed: nothing more is recorded, and nothing written. */
    void abandon() {
        synchronized (requested) {
            recording = false;
        }
    }

    Optional<Path> saved() {
        return Optional.ofNullable(saved);
    }

    List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** The served file's identity, computed when a profile is first read or written. */
    private String snapshotId() {
        String id = snapshotId;
        if (id == null) {
            id = Profiles.snapshotId(snapshot);
            snapshotId = id;
        }
        return id;
    }
}
