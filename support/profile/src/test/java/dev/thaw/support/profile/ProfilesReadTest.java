package dev.thaw.support.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.WorkingSet;
import dev.thaw.testing.fuzz.SnapshotFuzzing;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@link ProfilesFuzzTest} found in {@link Profiles#read}, each as the smallest profile that shows it.
 * Each failed before its fix (issue 12).
 */
class ProfilesReadTest {

    static final String ID = ProfilesFuzzTest.ID;
    static final long PAGES = ProfilesFuzzTest.PAGES;

    @TempDir
    Path dir;

    /** Not JSON; JSON in UTF-16 (Jackson detects it) with an unexpected U+2029; a token with a NEL in it. */
    static Stream<byte[]> notJson() {
        return Stream.of("{".getBytes(StandardCharsets.UTF_8), "{\"a\": \u2029}".getBytes(StandardCharsets.UTF_16LE),
                "[x\u0085]".getBytes(StandardCharsets.UTF_16LE));
    }

    @ParameterizedTest
    @MethodSource("notJson")
    void aProfileThatIsNotJsonIsIgnoredWithOneLine(byte[] profile) throws Exception {
        Path file = dir.resolve("fn.thaw.profile.json");
        Files.write(file, profile);
        List<String> warnings = new ArrayList<>();

        assertEquals(Optional.empty(), Profiles.read(file, ID, 4096, PAGES, warnings));
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().startsWith(file + ": cannot read the working-set profile: "), warnings.getFirst());
        assertTrue(SnapshotFuzzing.oneLine(warnings.getFirst()), warnings.getFirst());
    }

    @Test
    void aProfileOfAnotherSnapshotIsIgnoredWithOneLine() throws Exception {
        Path file = dir.resolve("fn.thaw.profile.json");
        Files.writeString(file, """
                {"format": "thaw-working-set", "version": 1, "snapshot": {"id": "sha256:x\\ny"}, "pageSize": 4096,
                 "runs": []}""");
        List<String> warnings = new ArrayList<>();

        assertEquals(Optional.empty(), Profiles.read(file, ID, 4096, PAGES, warnings));
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().startsWith(file + ": recorded on another snapshot ("), warnings.getFirst());
        assertTrue(SnapshotFuzzing.oneLine(warnings.getFirst()), warnings.getFirst());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[9223372036854775807, 1]", "[1e400, 1]", "[1, 9223372036854775807]"})
    void aRunWhoseEndOverflowsIsOutsideGuestMemory(String run) throws Exception {
        Path file = dir.resolve("fn.thaw.profile.json");
        Files.writeString(file, """
                {"format": "thaw-working-set", "version": 1, "snapshot": {"id": "%s"}, "pageSize": 4096,
                 "runs": [%s]}""".formatted(ID, run));
        List<String> warnings = new ArrayList<>();

        Optional<WorkingSet> profile = Profiles.read(file, ID, 4096, PAGES, warnings);

        assertEquals(Optional.empty(), profile);
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().startsWith(file + ": "), warnings.getFirst());
    }
}
