package dev.thaw.format.thaw.impl;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.format.thaw.impl.Snapshots.Memory;
import dev.thaw.testing.fuzz.FuzzRun;
import dev.thaw.testing.fuzz.SnapshotFuzzing;
import dev.thaw.testing.fuzz.SparseInput;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing of the Thaw snapshot reader (Jazzer; docs/fuzzing.md). An input is a byte of
 * {@link ChecksumFixups} flags, then a sparse file ({@link SparseInput}); the file, its checksums fixed as the
 * flags say, is opened through {@link ThawSnapshotFormat} and read whole as a restore reads it, or refused in
 * one line ({@link SnapshotFuzzing}). Seeded with files the writer makes of the test fixtures' states and
 * memory, each with every fixup and with none. {@code ./thaw test} runs {@link #EXECUTIONS} inputs with a
 * fixed seed, in a fork under the parent POM's memory ceiling ({@code thaw.fuzz.memory}, {@code thaw.fuzz.rss}).
 */
class ThawSnapshotFuzzTest {

    static final long EXECUTIONS = 10_000;

    static final FuzzRun RUN = new FuzzRun("thaw");

    /** One format service for all inputs, as in the platform: its state cache sees every input. */
    private static final ThawSnapshotFormat FORMAT = new ThawSnapshotFormat();

    @AfterAll
    static void ranEveryExecution() throws IOException {
        RUN.finish(EXECUTIONS);
    }

    /** Small files of every kind of page and region, one with a state from before runtimes were named. */
    static Stream<byte[]> files() throws IOException {
        Path dir = Files.createTempDirectory("thaw-fuzz-seeds");
        List<byte[]> seeds = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            seeds.add(file(dir, arena, 42, Snapshots.twoRegions(32 << 10, 16 << 10), false));
            seeds.add(file(dir, arena, 7, List.of(new RegionLayout("ram", 0, 64 << 10)), false));
            seeds.add(file(dir, arena, 3, List.of(new RegionLayout("ram", 1 << 20, 1 << 20)), true));
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
        List<byte[]> inputs = new ArrayList<>();
        for (byte[] seed : seeds) {
            inputs.add(input(ChecksumFixups.ALL, seed));
            inputs.add(input(0, seed));
        }
        RUN.startFromSeeds(inputs.size());
        return inputs.stream();
    }

    private static byte[] file(Path dir, Arena arena, long seed, List<RegionLayout> layouts, boolean withoutRuntime)
            throws IOException {
        Path file = dir.resolve(seed + ".thaw");
        Memory memory = Snapshots.memory(arena, seed, layouts);
        new ThawSnapshotWriter().write(file, Snapshots.state(seed, layouts), memory.regions(), Progress.NONE);
        if (withoutRuntime) {
            Snapshots.patchState(file, json -> json.replaceFirst(",\"runtime\":\"[a-z]+\"", ""));
        }
        return SparseInput.of(file);
    }

    private static byte[] input(int flags, byte[] file) {
        byte[] input = new byte[1 + file.length];
        input[0] = (byte) flags;
        System.arraycopy(file, 0, input, 1, file.length);
        return input;
    }

    @MethodSource("files")
    @FuzzTest(maxExecutions = EXECUTIONS, maxDuration = "120s")
    void openAndReadAll(byte[] input) throws IOException {
        Path file = RUN.file("input.thaw");
        RUN.run(() -> {
            SparseInput.write(input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length), file);
            ChecksumFixups.apply(file, input.length == 0 ? 0 : input[0]);
            return SnapshotFuzzing.openAndReadAll(FORMAT, file);
        });
    }
}
