package dev.thaw.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.util.tracker.ServiceTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Felix with the bundles of every feature in the distribution's {@code feature/} folder installed
 * and started (see {@link Features}).
 * Configuration comes from {@code config/} and extra bundles from {@code deploy/} (both through
 * FileInstall); the framework cache is private to this process and removed on close, so several
 * platforms can run side by side.
 */
final class Platform implements AutoCloseable {

    /** How long the platform may take until Thaw's commands are registered. */
    static final long READY_TIMEOUT_MS = 30_000;
    static final long STOP_TIMEOUT_MS = 30_000;
    /** The service that says Thaw's shell is up: any Gogo command of scope {@code thaw}. */
    static final String READY_FILTER = "(osgi.command.scope=thaw)";

    private final Framework framework;
    private final Path cache;
    private final Logger log;

    private Platform(Framework framework, Path cache, Logger log) {
        this.framework = framework;
        this.cache = cache;
        this.log = log;
    }

    static Platform start(Path home, boolean interactive) {
        Path dist = distribution(home);
        // Logback reads these when SLF4J first initializes, which must come after them; config/logback.xml
        // names the log file under thaw.home.
        System.setProperty("thaw.home", home.toString());
        Path logConfig = home.resolve("config/logback.xml");
        if (Files.isRegularFile(logConfig)) {
            System.setProperty("logback.configurationFile", logConfig.toString());
        }
        Logger log = LoggerFactory.getLogger(Platform.class);
        Path cache;
        try {
            cache = Files.createTempDirectory("thaw-felix-");
        } catch (IOException e) {
            throw new LaunchException("cannot create the framework cache: " + e.getMessage(), e);
        }
        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new LaunchException("no OSGi framework on the class path of " + dist))
                .newFramework(frameworkProperties(home, cache, interactive));
        Platform platform = new Platform(framework, cache, log);
        try {
            framework.init();
            Features features = Features.in(dist);
            log.info("features: {}", String.join(", ", features.names()));
            platform.installBundles(features.jars(features.names()));
            framework.start();
            log.info("Thaw platform started from {} ({})", home, interactive ? "interactive" : "batch");
            if (!interactive) {
                platform.awaitReady();
            }
            return platform;
        } catch (BundleException | RuntimeException e) {
            platform.close();
            if (e instanceof LaunchException le) {
                throw le;
            }
            throw new LaunchException("the platform did not start: " + e.getMessage(), e);
        }
    }

    /** Gogo's command processor, for running non-interactive commands. */
    GogoCommands commands() {
        return new GogoCommands(framework.getBundleContext());
    }

    /** Returns when the framework stops (the interactive shell stops it on {@code exit}). */
    void awaitShutdown() {
        try {
            framework.waitForStop(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        try {
            framework.stop();
            FrameworkEvent event = framework.waitForStop(STOP_TIMEOUT_MS);
            if (event.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                log.warn("framework did not stop within {} ms", STOP_TIMEOUT_MS);
            }
        } catch (BundleException e) {
            log.warn("framework stop failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            deleteTree(cache);
        }
    }

    private static Path distribution(Path home) {
        Path dist = home.resolve("distribution/target/thaw");
        if (!Files.isDirectory(dist.resolve(Features.FOLDER))) {
            throw new LaunchException("no built distribution at " + dist + " (run ./thaw build)");
        }
        return dist;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Map<String, String> frameworkProperties(Path home, Path cache, boolean interactive) {
        Properties launcher = new Properties();
        try (InputStream in = Platform.class.getResourceAsStream("launcher.properties")) {
            launcher.load(in);
        } catch (IOException | NullPointerException e) {
            throw new LaunchException("launcher.properties is missing from the launcher jar", e);
        }
        String slf4j = launcher.getProperty("slf4j.version");
        Map<String, String> p = new HashMap<>();
        p.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        p.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        p.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, Stream.of("org.slf4j", "org.slf4j.event", "org.slf4j.helpers", "org.slf4j.spi")
                .map(pkg -> pkg + ";version=" + slf4j)
                .reduce((a, b) -> a + "," + b).orElseThrow());
        p.put("thaw.home", home.toString());
        p.put("felix.fileinstall.dir", home.resolve("config").toString());
        p.put("felix.fileinstall.filter", ".*\\.(cfg|config)");
        p.put("felix.fileinstall.noInitialDelay", "true");
        p.put("felix.fileinstall.poll", "1000");
        p.put("felix.fileinstall.log.level", "2");
        // Without a console the Gogo shell bundle must not read stdin; the launcher drives it instead.
        p.put("gosh.args", interactive ? "" : "--nointeractive --noshutdown");
        p.put("gosh.home", home.resolve("config").toString());
        // Felix takes a logger object here, though the map is typed for strings.
        ((Map) p).put("felix.log.logger", new FrameworkLog());
        p.put("felix.log.level", "3");
        return p;
    }

    private void installBundles(List<Path> jars) throws BundleException {
        BundleContext context = framework.getBundleContext();
        List<Bundle> installed = new ArrayList<>();
        for (Path jar : jars) {
            installed.add(context.installBundle(jar.toUri().toString()));
        }
        for (Bundle b : installed) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                try {
                    b.start();
                } catch (BundleException e) {
                    // Keep going: the readiness check names what is missing; the log has the detail.
                    log.error("bundle {} did not start: {}", b.getSymbolicName(), e.getMessage());
                }
            }
        }
    }

    private void awaitReady() {
        BundleContext context = framework.getBundleContext();
        Filter filter;
        try {
            filter = context.createFilter(READY_FILTER);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(context, filter, null);
        tracker.open(true);
        try {
            if (tracker.waitForService(READY_TIMEOUT_MS) == null) {
                throw new LaunchException("Thaw's commands did not appear within " + READY_TIMEOUT_MS / 1000
                        + " s; bundles not active: " + inactiveBundles());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while starting");
        } finally {
            tracker.close();
        }
    }

    private String inactiveBundles() {
        List<String> names = new ArrayList<>();
        for (Bundle b : framework.getBundleContext().getBundles()) {
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            if (b.getState() != Bundle.ACTIVE && !fragment) {
                names.add(b.getSymbolicName());
            }
        }
        return names.isEmpty() ? "none (see the log file named in config/logback.xml)" : String.join(", ", names);
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // A cache left in /tmp is harmless; say so rather than fail the exit.
            System.err.println("thaw: could not remove framework cache " + root + ": " + e.getMessage());
        }
    }
}
