package dev.thaw.testing.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One fuzz target's run: the file each input is written to, how each input ended and how long the slowest
 * took, so that a run cut short by its time budget fails instead of passing with fewer inputs than it
 * promises. JUnit runs each seed once as a test of its own before fuzzing (libFuzzer then runs them again
 * among its executions).
 */
public final class FuzzRun {

    /** tmpfs where there is one: an input costs a write of its file, and there it costs no disk I/O. */
    private static final Path SHM = Path.of("/dev/shm");

    private final String target;
    private final Map<String, Long> outcomes = new TreeMap<>();
    private Path file;
    private long seeds;
    private long inputs;
    private long firstNanos;
    private long slowestNanos;

    public FuzzRun(String target) {
        this.target = target;
    }

    /** Whether this JVM fuzzes (Jazzer's {@code JAZZER_FUZZ}) rather than only replaying the seeds. */
    public static boolean fuzzing() {
        String value = System.getenv("JAZZER_FUZZ");
        return value != null && !value.isEmpty() && !value.equals("0") && !value.equalsIgnoreCase("false");
    }

    /** The file inputs are written to, in a folder of its own that {@link #finish} deletes. */
    public synchronized Path file(String name) {
        if (file == null) {
            try {
                Path dir = Files.isDirectory(SHM) && Files.isWritable(SHM)
                        ? Files.createTempDirectory(SHM, target + "-fuzz") : Files.createTempDirectory(target + "-fuzz");
                file = dir.resolve(name);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return file;
    }

    /**
     * Says how many seeds JUnit runs as tests of their own, before Jazzer starts; and unless {@code
     * thaw.fuzz.keepCorpus} is true (longer runs, docs/fuzzing.md), forgets the corpus an earlier run grew
     * ({@code .cifuzz-corpus} under {@code jazzer.internal.basedir}, the POM's {@code target/fuzz}), so that the
     * run starts from the seeds alone and its fixed seed repeats it.
     */
    public synchronized void startFromSeeds(int count) throws IOException {
        seeds += count;
        String base = System.getProperty("jazzer.internal.basedir");
        if (base != null && !Boolean.getBoolean("thaw.fuzz.keepCorpus")) {
            Path corpus = Path.of(base, ".cifuzz-corpus");
            if (Files.isDirectory(corpus)) {
                try (Stream<Path> files = Files.walk(corpus)) {
                    for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(f);
                    }
                }
            }
        }
    }

    /** One input's work: what it ends in, or the exception that is a finding (an IOException is the harness's). */
    @FunctionalInterface
    public interface Input<T> {
        T run() throws IOException;
    }

    /** Runs one input and counts how it ended. */
    public <T> T run(Input<T> input) throws IOException {
        long start = System.nanoTime();
        T outcome = input.run();
        long nanos = System.nanoTime() - start;
        synchronized (this) {
            if (inputs++ == 0) {
                firstNanos = start;
            }
            slowestNanos = Math.max(slowestNanos, nanos);
            outcomes.merge(String.valueOf(outcome), 1L, Long::sum);
        }
        return outcome;
    }

    /** Deletes the file, prints the figures; when fuzzing, asserts the fuzzer ran all {@code executions} it was given. */
    public synchronized void finish(long executions) throws IOException {
        if (file != null) {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        }
        double seconds = inputs == 0 ? 0 : (System.nanoTime() - firstNanos) / 1e9;
        String figures = String.format("%s fuzz target: %d inputs (%d seeds as tests) in %.1f s, the slowest %.0f ms: %s",
                target, inputs, seeds, seconds, slowestNanos / 1e6, outcomes);
        System.out.println(figures);
        if (fuzzing()) {
            assertTrue(inputs - seeds >= executions, "the fuzzer ran every one of its " + executions
                    + " executions within its time budget: " + figures);
        }
    }
}
