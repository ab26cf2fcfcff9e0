package dev.thaw.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The distribution's features: {@code feature/NAME/} holds the bundles of feature NAME (features/NAME/pom.xml)
 * and those they need. A bundle that several features need lies in each of their folders and is installed once.
 */
record Features(Path folder, List<String> names) {

    static final String FOLDER = "feature";

    static Features in(Path distribution) {
        Path folder = distribution.resolve(FOLDER);
        try (Stream<Path> dirs = Files.list(folder)) {
            List<String> names = dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().toList();
            if (names.isEmpty()) {
                throw new LaunchException("no features in " + folder + " (run ./thaw build)");
            }
            return new Features(folder, names);
        } catch (IOException e) {
            throw new LaunchException("cannot list the features in " + folder + ": " + e.getMessage(), e);
        }
    }

    /** The jars of {@code wanted}, one per file name, sorted by it. */
    List<Path> jars(List<String> wanted) {
        Map<String, Path> byName = new TreeMap<>();
        for (String feature : wanted) {
            Path dir = folder.resolve(feature);
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> f.toString().endsWith(".jar")).forEach(f -> byName.putIfAbsent(f.getFileName().toString(), f));
            } catch (IOException e) {
                throw new LaunchException("cannot list the bundles of feature " + feature + " in " + dir + ": " + e.getMessage(), e);
            }
        }
        return List.copyOf(byName.values());
    }
}
