package dev.thaw.format.qemu.impl;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.thaw.samples.impl.PackedSamples;
import dev.thaw.testing.fuzz.FuzzRun;
import dev.thaw.testing.fuzz.SnapshotFuzzing;
import dev.thaw.testing.fuzz.SparseInput;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing of the mapped-ram reader (Jazzer; docs/fuzzing.md): each input is a sparse file
 * ({@link SparseInput}), opened through {@link QemuMappedRamFormat} and read whole as a restore reads it, or
 * refused in one line ({@link SnapshotFuzzing}). Seeded from the QEMU-written samples, the legacy stream
 * among them. {@code ./thaw test} runs {@link #EXECUTIONS} inputs with a fixed seed, in a fork under the parent
 * POM's memory ceiling ({@code thaw.fuzz.memory}, {@code thaw.fuzz.rss}).
 */
class QemuMappedRamFuzzTest {

    static final long EXECUTIONS = 10_000;
    /** Opened at offset 0 as {@code thaw:inspect FILE} opens them (the offset sample starts elsewhere). */
    static final List<String> SAMPLES = List.of("qemu-microvm.mr", "qemu-multifd.mr", "qemu-pc.mr", "qemu-q35.mr",
            "qemu-legacy.mig");
    /**
     * Seeds whose inputs cost a hundred times more: reading an 8 GiB block asks for 2 M pages' presence, and its
     * damaged variants scan 64 MiB of holes for footers. Longer runs ({@code -Pfuzz-long}) add them.
     */
    static final List<String> SLOW_SAMPLES = List.of("qemu-8g-sparse.mr");

    static final FuzzRun RUN = new FuzzRun("qemu-mapped-ram");

    private final QemuMappedRamFormat format = new QemuMappedRamFormat();

    @AfterAll
    static void ranEveryExecution() throws IOException {
        RUN.finish(EXECUTIONS);
    }

    static Stream<byte[]> samples() throws IOException {
        List<String> samples = Boolean.getBoolean("thaw.fuzz.slowSeeds")
                ? Stream.concat(SAMPLES.stream(), SLOW_SAMPLES.stream()).toList() : SAMPLES;
        RUN.startFromSeeds(samples.size());
        return samples.stream().map(name -> {
            try (InputStream packed = PackedSamples.class.getResourceAsStream(name + ".sparse.gz")) {
                return SparseInput.ofPack(packed);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @MethodSource("samples")
    @FuzzTest(maxExecutions = EXECUTIONS, maxDuration = "120s")
    void openAndReadAll(byte[] input) throws IOException {
        Path file = RUN.file("input.mr");
        RUN.run(() -> {
            SparseInput.write(input, file);
            return SnapshotFuzzing.openAndReadAll(format, file);
        });
    }
}
