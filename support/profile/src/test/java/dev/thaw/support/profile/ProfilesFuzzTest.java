package dev.thaw.support.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.testing.fuzz.FuzzRun;
import dev.thaw.testing.fuzz.SnapshotFuzzing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing of the working-set profile's read side (Jazzer; docs/fuzzing.md,
 * docs/working-set-profile.md): each input is a profile file's bytes, read by {@link Profiles#read} for a
 * snapshot of {@link #PAGES} pages as a restore reads it. The profile is either used, with every run inside
 * the snapshot, or ignored with one warning of one line naming the file; nothing is thrown. Seeded with
 * profiles {@link Profiles#write} makes; the format's keys and boundary numbers are its dictionary. {@code
 * ./thaw test} runs {@link #EXECUTIONS} inputs with a fixed seed, in a fork under the parent POM's memory
 * ceiling ({@code thaw.fuzz.memory}, {@code thaw.fuzz.rss}).
 */
class ProfilesFuzzTest {

    static final long EXECUTIONS = 10_000;
    static final String ID = "sha256:3f9c0d7a5be1c6f2e0a4b8d1c7e9f5a3b2d4c6e8f0a1b3c5d7e9f1a3b5c7d9e1";
    static final int PAGE_SIZE = 4096;
    static final long PAGES = 262_144;

    static final FuzzRun RUN = new FuzzRun("profile");

    @AfterAll
    static void ranEveryExecution() throws IOException {
        RUN.finish(EXECUTIONS);
    }

    /** Profiles as recorded: used ones with few and many runs, and one of another snapshot and page size each. */
    static Stream<byte[]> profiles() throws IOException {
        Path dir = Files.createTempDirectory("profile-fuzz-seeds");
        Path snapshot = dir.resolve("fn.thaw");
        Path file = dir.resolve("fn.thaw.profile.json");
        List<byte[]> seeds = new ArrayList<>();
        try {
            long[] touches = {50, 51, 52, 10, 11, 200};
            seeds.add(profile(file, ID, snapshot, PAGE_SIZE, 6, Profiles.runs(touches, touches.length)));
            seeds.add(profile(file, ID, snapshot, PAGE_SIZE, 0, List.of()));
            long[] scattered = LongStream.range(0, 64).map(i -> (i * 7919) % PAGES).toArray();
            seeds.add(profile(file, ID, snapshot, PAGE_SIZE, 64, Profiles.runs(scattered, scattered.length)));
            seeds.add(profile(file, "sha256:" + "0".repeat(64), snapshot, PAGE_SIZE, 1, List.of(new PageRange(PAGES - 1, 1))));
            seeds.add(profile(file, ID, snapshot, 2 << 20, 1, List.of(new PageRange(0, 1))));
        } finally {
            Files.deleteIfExists(file);
            Files.delete(dir);
        }
        RUN.startFromSeeds(seeds.size());
        return seeds.stream();
    }

    private static byte[] profile(Path file, String id, Path snapshot, int pageSize, long touches, List<PageRange> runs)
            throws IOException {
        Profiles.write(file, id, snapshot, pageSize, PAGES, touches, runs);
        return Files.readAllBytes(file);
    }

    @DictionaryEntries({"\"format\"", "\"thaw-working-set\"", "\"version\"", "\"snapshot\"", "\"id\"", "\"file\"",
            "\"pageSize\"", "\"pages\"", "\"touchedPages\"", "\"runs\"", "262144", "262143", "-1", "2147483648",
            "4294967296", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e19", "1.5"})
    @MethodSource("profiles")
    @FuzzTest(maxExecutions = EXECUTIONS, maxDuration = "120s")
    void read(byte[] input) throws IOException {
        Path file = RUN.file("fn.thaw.profile.json");
        RUN.run(() -> {
            Files.write(file, input);
            List<String> warnings = new ArrayList<>();
            Optional<WorkingSet> profile = Profiles.read(file, ID, PAGE_SIZE, PAGES, warnings);
            if (profile.isPresent()) {
                assertEquals(List.of(), warnings, "a profile used is used without warnings");
                assertEquals(ID, profile.get().snapshotId());
                for (PageRange run : profile.get().runs()) {
                    assertTrue(run.first() >= 0 && run.count() >= 1 && run.count() <= PAGES - run.first(), () -> "run " + run + " lies inside the snapshot's " + PAGES + " pages");
                }
                return "USED";
            }
            assertEquals(1, warnings.size(), () -> "one warning says why the profile is ignored: " + warnings);
            String warning = warnings.getFirst();
            assertTrue(warning.startsWith(file + ": "), () -> "the warning names the file: " + warning);
            assertTrue(SnapshotFuzzing.oneLine(warning), () -> "the warning is one line: " + warning);
            return "IGNORED";
        });
    }
}
