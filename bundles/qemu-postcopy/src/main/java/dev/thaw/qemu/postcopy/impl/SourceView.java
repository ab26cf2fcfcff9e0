package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.policy.WorkingSet;
import java.util.Map;
import java.util.Optional;

/**
 * What a policy's session sees of a postcopy restore: the file's pages, and which are sent. As in the restore
 * engine, pages the file does not hold count as loaded: they are never read, and the source sends them itself
 * (a 9-byte ZERO record each) with the ranges around them and at the end. Called on the policy's call thread
 * while the sending thread waits for the call ({@link PolicyGuard}); a call given up on may read on, stale.
 */
final class SourceView implements RestoreView {

    private final MigrationFile file;
    private final SentPages sent;
    private final Map<String, Object> parameters;
    private final ServeProfile profile;

    SourceView(MigrationFile file, SentPages sent, Map<String, Object> parameters, ServeProfile profile) {
        this.file = file;
        this.sent = sent;
        this.parameters = Map.copyOf(parameters);
        this.profile = profile;
    }

    @Override
    public long pageCount() {
        return file.pages();
    }

    @Override
    public int pageSize() {
        return Protocol.PAGE_SIZE;
    }

    @Override
    public boolean inSnapshot(long page) {
        return page >= 0 && page < file.pages() && file.present(page);
    }

    @Override
    public boolean isLoaded(long page) {
        return page >= 0 && page < file.pages() && (sent.taken(page) || !file.present(page));
    }

    @Override
    public long nextUnloaded(long from) {
        for (long p = sent.nextFree(Math.max(0, from)); p < file.pages(); p = sent.nextFree(p + 1)) {
            if (file.present(p)) {
                return p;
            }
        }
        return file.pages();
    }

    /** The working-set profile the serve read ({@link ServeProfile#read}), if it names a usable one. */
    @Override
    public Optional<WorkingSet> workingSet() {
        return profile.workingSet();
    }

    @Override
    public Map<String, Object> parameters() {
        return parameters;
    }
}
