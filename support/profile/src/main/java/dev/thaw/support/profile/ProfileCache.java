package dev.thaw.support.profile;

import dev.thaw.api.policy.WorkingSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Working-set profiles read so far, by file: a profile is parsed once while neither it (same file,
 * size and time; a rewrite renames a new file into place) nor its snapshot changes. Parsing tens of
 * thousands of runs costs milliseconds a restore of the same snapshot need not pay again. Shared by the restore
 * engine and the postcopy source, each with its own cache.
 */
public final class ProfileCache {

    public static final int MAX_ENTRIES = 16;

    private record Key(Object fileKey, long size, FileTime modified, String snapshotId, int pageSize, long pages) {}

    private record Cached(Key key, Optional<WorkingSet> profile, List<String> warnings) {}

    private final Map<Path, Cached> entries = new LinkedHashMap<>(MAX_ENTRIES, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Cached> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    /** As {@link Profiles#read}, from the cache when the file and snapshot are the ones read before. */
    public Optional<WorkingSet> read(Path file, String snapshotId, int pageSize, long pages, List<String> warnings) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            return Profiles.read(file, snapshotId, pageSize, pages, warnings); // says why, or finds none
        }
        Key key = new Key(a.fileKey(), a.size(), a.lastModifiedTime(), snapshotId, pageSize, pages);
        synchronized (entries) {
            Cached e = entries.get(file);
            if (e != null && e.key().equals(key)) {
                warnings.addAll(e.warnings());
                return e.profile();
            }
        }
        List<String> found = new ArrayList<>();
        Optional<WorkingSet> profile = Profiles.read(file, snapshotId, pageSize, pages, found);
        synchronized (entries) {
            entries.put(file, new Cached(key, profile, List.copyOf(found)));
        }
        warnings.addAll(found);
        return profile;
    }
}
