package dev.thaw.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build refuses an exported package whose version is lower than its changes need
 * (docs/api-versioning.md): a copy of this module, changed, is built with the build's own poms and scripts
 * against the real baseline (thaw.baseline.commit), as a contributor's change would be.
 */
class ApiBaselineCheckTest {

    static final Path SOURCE_ROOT = Path.of(System.getenv().getOrDefault("THAW_SOURCE_ROOT", "../..")).toAbsolutePath();
    static final Path API = Path.of("bundles/api/src/main/java/dev/thaw/api");
    static final long BUILD_MINUTES = 5;

    @Test
    void refusesAMethodAddedToAConsumerTypeWithAMinorBumpAndOneAddedToAProviderTypeWithNone(@TempDir Path copy)
            throws Exception {
        Path root = copyOfTheApiModule(copy);
        asInTheBaseline(root, "policy", "restore");
        addMethod(root, "policy/PagePolicy.java"); // @ConsumerType: every policy must implement it, a major change
        setVersion(root, "policy", "1.1.0", "1.2.0");
        addMethod(root, "restore/LazyRestore.java"); // @ProviderType: only Thaw implements it, a minor change

        Build build = build(root);

        assertNotEquals(0, build.exitCode(), build.tail());
        // bnd's report: a starred line per package whose version is too low, with the version it needs.
        assertTrue(build.hasLine("\\* dev\\.thaw\\.api\\.policy +PACKAGE +MAJOR +1\\.2\\.0 +1\\.1\\.0 +2\\.0\\.0\\b.*"), build.tail());
        assertTrue(build.hasLine("\\* dev\\.thaw\\.api\\.restore +PACKAGE +MINOR +2\\.0\\.0 +2\\.0\\.0 +2\\.1\\.0\\b.*"), build.tail());
        assertTrue(build.hasLine(" +ADDED +METHOD +weight\\(\\)"), build.tail());
        assertEquals(2, build.lines().stream().filter(l -> l.matches("\\[ERROR\\] \\* dev\\.thaw\\..*")).count(), build.tail());
    }

    @Test
    void acceptsTheSameChangesWithTheVersionsTheyNeed(@TempDir Path copy) throws Exception {
        Path root = copyOfTheApiModule(copy);
        asInTheBaseline(root, "policy", "restore");
        addMethod(root, "policy/PagePolicy.java");
        setVersion(root, "policy", "1.1.0", "2.0.0");
        addMethod(root, "restore/LazyRestore.java");
        setVersion(root, "restore", "2.0.0", "2.1.0");

        Build build = build(root);

        assertEquals(0, build.exitCode(), build.tail());
        assertTrue(build.hasLine(".*Baseline check succeeded.*"), build.tail());
    }

    @Test
    void refusesABundleThatNoLongerExportsAPackageItsBaselineExported(@TempDir Path dir) throws Exception {
        // bnd's baseline lets this pass in a 0.x bundle; scripts/ExportedPackagesKept.java does not.
        String both = "org.example.a;uses:=\"org.example.b,org.example.c\";version=\"1.3.0\",org.example.b;version=\"2.0.0\"";
        Path baseline = jarExporting(dir.resolve("baseline.jar"), both);
        Path withoutA = jarExporting(dir.resolve("without-a.jar"), "org.example.b;version=\"2.0.0\"");
        Path withA = jarExporting(dir.resolve("with-a.jar"), "org.example.b;version=\"2.1.0\",org.example.a;version=\"1.4.0\"");

        Build refused = exportsKept(dir, baseline, withoutA);
        Build kept = exportsKept(dir, baseline, withA);

        assertEquals(1, refused.exitCode(), refused.tail());
        assertEquals(1, refused.lines().size(), refused.tail());
        assertTrue(refused.lines().getFirst().startsWith(
                "[ERROR] thaw API baseline: without-a.jar no longer exports org.example.a 1.3.0, which the last release"
                        + " (thaw.baseline.commit 0123abc) exports"), refused.tail());
        assertEquals(0, kept.exitCode(), kept.tail());
        assertEquals(List.of(), kept.lines());
    }

    /** What a build printed, and how it ended. */
    record Build(int exitCode, List<String> lines) {
        boolean hasLine(String regex) {
            Pattern p = Pattern.compile("(\\[ERROR\\] |\\[INFO\\] )?" + regex);
            return lines.stream().anyMatch(l -> p.matcher(l).matches());
        }

        String tail() {
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        }
    }

    /** The root pom, .mvn, scripts and this module's main sources: what building the module needs. */
    static Path copyOfTheApiModule(Path copy) throws IOException {
        for (String part : List.of("pom.xml", ".mvn", "scripts", "bundles/api/pom.xml", "bundles/api/bnd.bnd", "bundles/api/src/main")) {
            copyTree(SOURCE_ROOT.resolve(part), copy.resolve(part));
        }
        return copy;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(p, target);
                }
            }
        }
    }

    /**
     * Puts {@code packages} of the copy back as they are at the baseline commit, sources and version, so that the
     * changes a test makes are the only ones since the baseline, whatever later commits changed there.
     */
    static void asInTheBaseline(Path root, String... packages) throws Exception {
        String pom = Files.readString(SOURCE_ROOT.resolve("pom.xml"));
        var commit = Pattern.compile("<thaw\\.baseline\\.commit>([0-9a-f]+)</thaw\\.baseline\\.commit>").matcher(pom);
        assertTrue(commit.find(), "the root pom names no thaw.baseline.commit");
        for (String pkg : packages) {
            Path dir = root.resolve(API).resolve(pkg);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.delete(f);
                }
            }
            String folder = API.resolve(pkg).toString();
            for (String file : git("ls-tree", "--name-only", commit.group(1) + ":" + folder).lines().toList()) {
                Files.writeString(dir.resolve(file), git("show", commit.group(1) + ":" + folder + "/" + file));
            }
        }
    }

    private static String git(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("git", "-C", SOURCE_ROOT.toString()));
        command.addAll(List.of(arguments));
        Process git = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(git.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, git.waitFor(), String.join(" ", command) + ": " + out);
        return out;
    }

    /** Adds {@code int weight();} to the interface in {@code file}, before its last closing brace. */
    static void addMethod(Path root, String file) throws IOException {
        Path source = root.resolve(API).resolve(file);
        String text = Files.readString(source);
        int end = text.lastIndexOf('}');
        Files.writeString(source, text.substring(0, end) + "    int weight();\n}\n");
    }

    static void setVersion(Path root, String pkg, String from, String to) throws IOException {
        Path info = root.resolve(API).resolve(pkg).resolve("package-info.java");
        String text = Files.readString(info);
        String old = "@Version(\"" + from + "\")";
        assertTrue(text.contains(old), info + " is not at " + from + ": this test's changes assume it");
        Files.writeString(info, text.replace(old, "@Version(\"" + to + "\")"));
    }

    /** Builds the copy's API module to verify, as ./thaw test would, with the baseline from this checkout's history. */
    static Build build(Path root) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("thaw.maven.home"), "bin", "mvn").toString(), "-B", "-ntp",
                "-Dmaven.repo.local=" + System.getProperty("thaw.maven.repository"),
                "-Dthaw.baseline.git=" + SOURCE_ROOT,
                "-Dmaven.test.skip=true",
                "-f", root.resolve("bundles/api/pom.xml").toString(), "verify"));
        if ("offline=true".equals(System.getProperty("thaw.maven.offline"))) {
            command.add(3, "-o");
        }
        ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
        // A short build: C1 alone halves its CPU time (javac runs in Maven's JVM).
        builder.environment().merge("MAVEN_OPTS", "-XX:TieredStopAtLevel=1", (mine, c1) -> mine + " " + c1);
        return run(builder, root.resolve("build.log"));
    }

    static Build exportsKept(Path dir, Path baseline, Path bundle) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return run(new ProcessBuilder(java.toString(), SOURCE_ROOT.resolve("scripts/ExportedPackagesKept.java").toString(),
                baseline.toString(), bundle.toString(), "0123abc"), dir.resolve(bundle.getFileName() + ".log"));
    }

    static Build run(ProcessBuilder builder, Path log) throws Exception {
        Process process = builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(BUILD_MINUTES, TimeUnit.MINUTES)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor();
            throw new AssertionError(String.join(" ", builder.command()) + " took more than " + BUILD_MINUTES + " minutes; log: " + log);
        }
        return new Build(process.exitValue(), Files.readAllLines(log));
    }

    static Path jarExporting(Path jar, String exportPackage) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Export-Package", exportPackage);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            return jar;
        }
    }
}
