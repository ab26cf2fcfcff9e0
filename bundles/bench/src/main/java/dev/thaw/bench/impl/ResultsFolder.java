package dev.thaw.bench.impl;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.thaw.api.bench.BenchReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/** A run's results folder, {@code <root>/<kind>-<UTC time>}: {@code results.json} and {@code chart.svg}. */
final class ResultsFolder {

    static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private ResultsFolder() {}

    /** A new, empty folder: runs started in the same second get a suffix. */
    static Path create(Path root, String kind) {
        String base = kind + "-" + STAMP.format(ZonedDateTime.now(ZoneOffset.UTC));
        try {
            Files.createDirectories(root);
            for (int i = 1; ; i++) {
                Path dir = root.resolve(i == 1 ? base : base + "-" + i);
                try {
                    return Files.createDirectory(dir);
                } catch (FileAlreadyExistsException e) {
                    // taken by a run started in the same second: try the next suffix
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a results folder under " + root + ": " + e.getMessage(), e);
        }
    }

    static void write(BenchReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("request", report.request());
        json.put("rows", report.rows());
        json.put("ratios", report.ratios());
        json.put("notes", report.notes());
        writeJson(report.resultsDir(), json);
        try {
            Files.writeString(report.resultsDir().resolve("chart.svg"), BarChart.of(report), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the chart into " + report.resultsDir() + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code json} as the run's {@code results.json} in {@code dir}. */
    static void writeJson(Path dir, Map<String, Object> json) {
        try {
            Files.write(dir.resolve("results.json"), JSON.writeValueAsBytes(json));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results into " + dir + ": " + e.getMessage(), e);
        }
    }
}
