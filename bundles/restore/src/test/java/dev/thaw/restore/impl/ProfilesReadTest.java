package dev.thaw.restore.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.WorkingSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@link ProfilesFuzzTest} found in {@link Profiles#read}, each as the smallest profile that shows it.
 * Reported (issue 12), not fixed on the branch that found them: the restore engine's main code was another
 * branch's to change. Enable each with its fix.
 */
class ProfilesReadTest {

    static final String ID = ProfilesFuzzTest.ID;
    static final long PAGES = ProfilesFuzzTest.PAGES;

    @TempDir
    Path dir;

    @Disabled("finding 1 of ProfilesFuzzTest: Profiles.read puts Jackson's two-line message into its warning")
    @Test
    void aProfileThatIsNotJsonIsIgnoredWithOneLine() throws Exception {
        Path file = dir.resolve("fn.thaw.profile.json");
        Files.writeString(file, "{");
        List<String> warnings = new ArrayList<>();

        assertEquals(Optional.empty(), Profiles.read(file, ID, 4096, PAGES, warnings));
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().startsWith(file + ": cannot read the working-set profile: "), warnings.getFirst());
        assertFalse(warnings.getFirst().contains("\n"), warnings.getFirst());
    }

    @Disabled("finding 2 of ProfilesFuzzTest: first + count > pages overflows, so a run past Long.MAX_VALUE is taken")
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
