package dev.thaw.restore.impl;

import dev.thaw.support.profile.ProfileCache;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.api.restore.ProfileMode;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.support.profile.FirstTouches;
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
 * A restore's working-set profile (docs/working-set-profile.md): while recording, the first-touch order
 * of the pages faulted on, saved on request; otherwise the profile read for the policy, when it first
 * asks (most never do). Also the restore's warnings.
 */
final class ProfileRecorder {

    private static final Logger LOG = LoggerFactory.getLogger(ProfileRecorder.class);

    private final RestoreRequest request;
    private final Pages pages;
    private final ProfileCache profiles;
    private final RestorePhase phase;
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    /** First-touch log while recording; guarded by itself. */
    private final FirstTouches touches = new FirstTouches();
    /** The snapshot's identity, computed when first needed (reading the file is not for the resume path). */
    private volatile String snapshotId;
    /** The working-set profile, read when the policy first asks; null until then. */
    private volatile Optional<WorkingSet> workingSet;

    ProfileRecorder(RestoreRequest request, Pages pages, ProfileCache profiles, RestorePhase phase) {
        this.request = request;
        this.pages = pages;
        this.profiles = profiles;
        this.phase = phase;
    }

    /** A fault on {@code page}: logged if it is the first touch of it while recording. */
    void touch(long page) {
        synchronized (touches) {
            if (phase.recording()) {
                touches.touch(page);
            }
        }
    }

    /** Ends recording (the restore goes on LOADING) and writes the profile; returns its file. */
    Path save() {
        List<PageRange> runs;
        long count;
        synchronized (touches) {
            if (!phase.endRecording()) {
                throw new IllegalStateException("this restore does not record a working-set profile (any more)");
            }
            runs = touches.runs();
            count = touches.count();
        }
        Path file = request.profileFile();
        Profiles.write(file, snapshotId(), request.reader().file(), pages.pageSize, pages.total(), count, runs);
        return file;
    }

    Optional<WorkingSet> workingSet() {
        Optional<WorkingSet> ws = workingSet;
        if (ws == null) {
            synchronized (warnings) {
                ws = workingSet;
                if (ws == null) {
                    Path profile = request.profileFile();
                    List<String> found = new ArrayList<>();
                    ws = request.profile() == ProfileMode.USE && Files.exists(profile)
                            ? profiles.read(profile, snapshotId(), pages.pageSize, pages.total(), found)
                            : Optional.empty();
                    found.forEach(LOG::warn);
                    warnings.addAll(found);
                    workingSet = ws;
                }
            }
        }
        return ws;
    }

    private String snapshotId() {
        String id = snapshotId;
        if (id == null) {
            id = Profiles.snapshotId(request.reader().file());
            snapshotId = id;
        }
        return id;
    }

    List<String> warnings() {
        return List.copyOf(warnings);
    }
}
