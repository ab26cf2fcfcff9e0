package dev.thaw.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackages;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.stream.Stream;
import org.ops4j.pax.exam.Option;
import org.osgi.framework.Constants;

/**
 * The Pax Exam configuration of every itest: a Felix like the one the launcher starts
 * (distribution/src/main/java/dev/thaw/launcher/Platform.java), with exactly the bundles of the assembled
 * distribution's features (all, or the ones named), plus what Pax Exam itself needs (its bundles and
 * JUnit's, from pax-exam-link-assembly). Features are the sets of features/NAME/pom.xml, which the
 * distribution holds in {@code feature/NAME/}; a bundle in several features is installed once.
 *
 * <p>Runs in the driver, when JUnit builds the test class; the framework then runs in this same JVM
 * (Pax Exam's native container).
 */
public final class ThawDistribution {

    /** Set by failsafe to distribution/target/thaw; the default is right when run from itests/. */
    static final String DISTRIBUTION_PROPERTY = "thaw.itest.distribution";
    /** Set by failsafe to the repository root (what the launcher calls thaw.home). */
    static final String HOME_PROPERTY = "thaw.itest.home";
    /** Where the launcher reads the version under which the system bundle exports SLF4J. */
    static final String LAUNCHER_PROPERTIES = "dev/thaw/launcher/launcher.properties";
    /**
     * Pax Exam's bundles import org.slf4j in [1.4,2) and [1.7,2). The system bundle exports the one SLF4J
     * 2 API on the class path under this version too (the 1.7 logger API is a subset of 2.0's), so they
     * wire to it instead of needing Pax Logging. Thaw's bundles import [2.0,3) and still wire to 2.0.17.
     */
    static final String SLF4J_FOR_PAX_EXAM = "org.slf4j;version=1.7.36";

    /** The distribution's folder of features, one folder of bundles each (as the launcher's Features). */
    static final String FEATURES = "feature";

    private static Path configCopy;

    private ThawDistribution() {
    }

    /** The directory of the assembled distribution (with lib/ and feature/). */
    public static Path directory() {
        return Path.of(System.getProperty(DISTRIBUTION_PROPERTY, "../distribution/target/thaw")).toAbsolutePath().normalize();
    }

    /** The names of the distribution's features, sorted. */
    public static List<String> features() {
        Path dir = directory().resolve(FEATURES);
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("no assembled distribution at " + directory()
                    + ": build it first (mvn install at the repository root, or ./thaw build)");
        }
        try (Stream<Path> dirs = Files.list(dir)) {
            return dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The jars of every feature, as the launcher installs them. */
    public static List<Path> bundleJars() {
        return bundleJars(features());
    }

    /** The jars of the named features, one per file name, sorted by it. */
    public static List<Path> bundleJars(List<String> features) {
        Map<String, Path> byName = new TreeMap<>();
        for (String feature : features) {
            Path dir = directory().resolve(FEATURES).resolve(feature);
            if (!Files.isDirectory(dir)) {
                throw new IllegalStateException("no feature " + feature + " in " + directory() + " (it has " + features() + ")");
            }
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> f.getFileName().toString().endsWith(".jar"))
                        .forEach(f -> byName.putIfAbsent(f.getFileName().toString(), f));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
        }
        if (byName.isEmpty()) {
            throw new IllegalStateException("no bundles in the features " + features);
        }
        return List.copyOf(byName.values());
    }

    /** The location each bundle is installed from: its {@code file:} URL. */
    public static String location(Path jar) {
        return jar.toUri().toString();
    }

    /** A framework with every feature of the distribution. */
    public static Option[] options() {
        return options(features());
    }

    /** A framework with only the named features. */
    public static Option[] options(List<String> features) {
        Path home = Path.of(System.getProperty(HOME_PROPERTY, "..")).toAbsolutePath().normalize();
        Path config = configCopy(home);
        String slf4j = slf4jVersion();
        List<Option> options = new ArrayList<>();
        // The launcher's system packages extra, plus the SLF4J 1.7 alias for Pax Exam's bundles.
        options.add(systemPackages(
                "org.slf4j;version=" + slf4j,
                "org.slf4j.event;version=" + slf4j,
                "org.slf4j.helpers;version=" + slf4j,
                "org.slf4j.spi;version=" + slf4j,
                SLF4J_FOR_PAX_EXAM));
        options.add(frameworkProperty("thaw.home").value(home.toString()));
        options.add(frameworkProperty("felix.fileinstall.dir").value(config.toString()));
        options.add(frameworkProperty("felix.fileinstall.filter").value(".*\\.(cfg|config)"));
        options.add(frameworkProperty("felix.fileinstall.noInitialDelay").value("true"));
        options.add(frameworkProperty("felix.fileinstall.poll").value("1000"));
        options.add(frameworkProperty("felix.fileinstall.log.level").value("2"));
        // As the launcher without a console: the Gogo shell bundle must not read stdin or stop the framework.
        options.add(frameworkProperty("gosh.args").value("--nointeractive --noshutdown"));
        options.add(frameworkProperty("gosh.home").value(config.toString()));
        options.add(frameworkProperty("felix.log.level").value("2"));
        options.add(cleanCaches(true));
        for (Path jar : bundleJars(features)) {
            options.add(bundle(location(jar)).start(!isFragment(jar)));
        }
        options.add(junitBundles());
        return options.toArray(Option[]::new);
    }

    /** The SLF4J version the launcher exports (slf4j.version in its launcher.properties). */
    public static String slf4jVersion() {
        Path launcher = directory().resolve("lib/thaw-launcher.jar");
        try (JarFile jar = new JarFile(launcher.toFile())) {
            ZipEntry entry = jar.getEntry(LAUNCHER_PROPERTIES);
            if (entry == null) {
                throw new IllegalStateException(launcher + " lacks " + LAUNCHER_PROPERTIES);
            }
            Properties p = new Properties();
            try (InputStream in = jar.getInputStream(entry)) {
                p.load(in);
            }
            String version = p.getProperty("slf4j.version");
            if (version == null || version.isBlank() || version.startsWith("${")) {
                throw new IllegalStateException(launcher + ": no slf4j.version in " + LAUNCHER_PROPERTIES);
            }
            return version.trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + LAUNCHER_PROPERTIES + " from " + launcher, e);
        }
    }

    static boolean isFragment(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            return manifest != null && manifest.getMainAttributes().getValue(Constants.FRAGMENT_HOST) != null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the manifest of " + jar, e);
        }
    }

    /**
     * A private copy of the repository's config/ for FileInstall, so the product's configuration applies
     * but nothing is written back into the repository. FileInstall's own factory configurations are left
     * out: they watch further folders (deploy/), whose bundles would not be the distribution's; the runtime is
 * this run's ({@link ItestRuntime}). Made once
     * per JVM (Pax Exam asks every test class for its options first) and shared by the frameworks, which
     * run one after another.
     */
    private static synchronized Path configCopy(Path home) {
        if (configCopy != null) {
            return configCopy;
        }
        Path copy = Path.of(System.getProperty("thaw.itest.work", "target/itest")).toAbsolutePath().resolve("config");
        try {
            if (Files.exists(copy)) {
                try (Stream<Path> old = Files.walk(copy)) {
                    for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            Files.createDirectories(copy);
            // Every guest of this run on its runtime, as a user who configured it would have it.
            Files.writeString(copy.resolve("dev.thaw.machine.cfg"), "runtime = " + ItestRuntime.name() + "\n");
            Path source = home.resolve("config");
            if (Files.isDirectory(source)) {
                try (Stream<Path> files = Files.list(source)) {
                    for (Path f : files.toList()) {
                        String name = f.getFileName().toString();
                        if ((name.endsWith(".cfg") || name.endsWith(".config"))
                                && !name.startsWith("org.apache.felix.fileinstall-") && !name.equals("dev.thaw.machine.cfg")) {
                            Files.copy(f, copy.resolve(name));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + copy + " for FileInstall", e);
        }
        configCopy = copy;
        return copy;
    }
}
