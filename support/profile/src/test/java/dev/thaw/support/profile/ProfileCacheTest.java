package dev.thaw.support.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A profile is parsed once while its file stays the same; a rewrite (renamed into place) is read again. */
class ProfileCacheTest {

    static final String ID = "sha256:cache-test";
    static final long PAGES = 1 << 20;

    @TempDir
    Path dir;

    final ProfileCache cache = new ProfileCache();

    private WorkingSet read(Path file) {
        return cache.read(file, ID, 4096, PAGES, new ArrayList<>()).orElseThrow();
    }

    private static void write(Path file, long firstPage) {
        Profiles.write(file, ID, Path.of("vm.mr"), 4096, PAGES, 8, List.of(new PageRange(firstPage, 8)));
    }

    @Test
    void theSameFileIsParsedOnceAndARewriteIsReadAgain() throws Exception {
        Path file = dir.resolve("vm.mr.profile.json");
        write(file, 100);
        WorkingSet first = read(file);
        assertSame(first, read(file), "the same file, size and time: from the cache");

        // The same bytes changed in place, the file's size and time kept: the cache cannot tell, and keeps its copy.
        FileTime time = Files.getLastModifiedTime(file);
        String text = Files.readString(file);
        Files.writeString(file, text.replace("100", "200"));
        Files.setLastModifiedTime(file, time);
        assertSame(first, read(file), "not parsed again");

        // A rewrite, as Profiles.write makes one: a new file renamed into place.
        Path other = dir.resolve("other.json");
        write(other, 300);
        Files.move(other, file, StandardCopyOption.REPLACE_EXISTING);
        assertEquals(List.of(new PageRange(300, 8)), read(file).runs());
    }
}
