package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchRequest;
import dev.thaw.api.bench.BenchRow;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The C floor of a demand fault on this machine, run beside Thaw's: the team's {@code uffd-floor.c}
 * (a CPL3 store loop, one store per 4 KiB page, over as many pages as the working set) served by a
 * minimal C handler with one 4 KiB UFFDIO_COPY per fault (mode 2), and over populated memory (mode 0).
 * The difference is what one fault costs the guest, the figure Thaw's {@code none} row is compared with.
 */
final class FloorRow {

    static final String MODE = "uffd-floor";
    private static final Pattern PER_PAGE = Pattern.compile("([0-9.]+) us/page");
    private static final long RUN_TIMEOUT_SECONDS = 120;

    private FloorRow() {}

    static Optional<BenchRow> measure(BenchRequest request, Path dir, Consumer<String> progress, List<String> notes) {
        Path source = request.floorSource();
        if (source == null) {
            return Optional.empty();
        }
        if (!Files.isRegularFile(source)) {
            notes.add(MODE + " row skipped: " + source + " does not exist");
            return Optional.empty();
        }
        long touchMiB = Math.max(1, request.workingSetBytes() >> 20);
        try {
            Path binary = dir.resolve("uffd-floor");
            run(List.of("gcc", "-O2", "-pthread", source.toString(), "-o", binary.toString()));
            List<Double> faulted = new ArrayList<>();
            List<Double> populated = new ArrayList<>();
            for (int round = 1; round <= request.repeat() + 1; round++) { // the first round warms up
                progress.accept(MODE + ": round " + round + " of " + (request.repeat() + 1));
                double f = perPage(run(List.of(binary.toString(), "2", "4096", Long.toString(touchMiB))));
                double p = perPage(run(List.of(binary.toString(), "0", "4096", Long.toString(touchMiB))));
                if (round > 1) {
                    faulted.add(f);
                    populated.add(p);
                }
            }
            Files.delete(binary);
            double f = Median.of(faulted);
            double p = Median.of(populated);
            return Optional.of(new BenchRow(MODE, null, null, null, touchMiB << 8, null, null, f - p, null, null, null, null,
                    null, null, String.format(Locale.ROOT, "%s mode 2, 4096-byte copies, %d MiB: %.1f us per faulted page, "
                            + "%.2f us per populated page (mode 0)", source.getFileName(), touchMiB, f, p)));
        } catch (IOException e) {
            notes.add(MODE + " row skipped: " + e.getMessage());
            return Optional.empty();
        }
    }

    private static double perPage(String output) throws IOException {
        Matcher m = PER_PAGE.matcher(output);
        if (!m.find()) {
            throw new IOException("uffd-floor printed no time per page: " + output.strip());
        }
        return Double.parseDouble(m.group(1));
    }

    private static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + RUN_TIMEOUT_SECONDS + " s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out.strip());
            }
            return out;
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.getFirst(), e);
        }
    }
}
