package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Which installed bundles cannot be used as policies and why, as a real framework (Felix, as the
 * distribution runs) reads their manifests; and reading a version range back from a package filter.
 */
class PolicyBundlesTest {

    static final String SPI = PolicyBundles.SPI_PACKAGE;

    private Framework framework;

    @AfterEach
    void stopFramework() throws Exception {
        if (framework != null) {
            framework.stop();
            assertEquals(FrameworkEvent.STOPPED, framework.waitForStop(10_000).getType());
        }
    }

    @Test
    void eachUnresolvedBundleThatImportsThePolicyApiGetsOneLineWithItsReason(@TempDir Path storage) throws Exception {
        framework = ServiceLoader.load(FrameworkFactory.class).findFirst().orElseThrow().newFramework(Map.of(
                Constants.FRAMEWORK_STORAGE, storage.toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT));
        framework.start();
        install("dev.thaw.api", Constants.EXPORT_PACKAGE, SPI + ";version=\"1.0.0\"");
        Bundle shell = install("dev.thaw.shell", Constants.IMPORT_PACKAGE, SPI + ";version=\"[1.0,2)\"");
        install("org.example.fine", Constants.IMPORT_PACKAGE, SPI + ";version=\"[1.0,2)\"");
        install("org.example.future", Constants.IMPORT_PACKAGE, "org.osgi.framework;version=\"[1.8,2)\"," + SPI + ";version=\"[2.0,3)\",org.example.x;version=\"[1,2)\"");
        install("org.example.newer", Constants.IMPORT_PACKAGE, SPI + ";version=\"[1.4,2)\"");
        install("org.example.needy", Constants.IMPORT_PACKAGE, SPI + ";version=\"[1.0,2)\",org.example.missing");
        install("org.example.unrelated", Constants.IMPORT_PACKAGE, SPI + "x;version=\"[1,2)\"");
        // One clause for two packages, which reading the header clause by clause took for no import of the API.
        install("org.example.shared", Constants.IMPORT_PACKAGE, "org.example.y;" + SPI + ";version=\"[2.1,3)\"");
        install("org.example.dynamic", Constants.IMPORT_PACKAGE, "org.example.missing", Constants.DYNAMICIMPORT_PACKAGE, SPI);
        framework.adapt(FrameworkWiring.class).resolveBundles(null);
        shell.start();

        assertEquals(List.of(
                "org.example.future 1.0.0 (test:org.example.future) is not resolved: it was built for policy API [2.0,3), "
                        + "this Thaw has dev.thaw.api.policy 1.0.0 (another major version)",
                "org.example.newer 1.0.0 (test:org.example.newer) is not resolved: it was built for policy API [1.4,2), "
                        + "this Thaw has dev.thaw.api.policy 1.0.0 (older than it needs)",
                "org.example.needy 1.0.0 (test:org.example.needy) is not resolved: it needs other packages this Thaw lacks "
                        + "(see var/log/thaw.log)",
                "org.example.shared 1.0.0 (test:org.example.shared) is not resolved: it was built for policy API [2.1,3), "
                        + "this Thaw has dev.thaw.api.policy 1.0.0 (another major version)"),
                PolicyBundles.unresolved(shell.getBundleContext()));
    }

    @Test
    void theRangeIsReadFromTheFiltersFrameworksWrite() {
        assertRange(SPI, "[2.0,3)", "(&(osgi.wiring.package=" + SPI + ")(version>=2.0.0)(!(version>=3.0.0)))"); // Felix
        assertRange("p", "[1.2.3,2)", "(&(osgi.wiring.package=p)(&(version>=1.2.3)(!(version>=2.0.0))))"); // Equinox
        assertRange("p", "(1.0,1.5]", "(&(osgi.wiring.package=p)(!(version<=1.0.0))(version<=1.5.0))");
        assertRange("p", "[1.2,1.2]", "(&(osgi.wiring.package=p)(version=1.2.0))");
        assertRange("p", "0.0", "(osgi.wiring.package=p)");
        assertRange("p", "[1.0.0.beta,2)", "(&(osgi.wiring.package=p)(bundle-symbolic-name=b)(version>=1.0.0.beta)(!(version>=2.0.0)))");
        assertRange("a(b)", "0.0", "(osgi.wiring.package=a\\(b\\))");

        VersionRange any = PackageFilter.read("(osgi.wiring.package=p)").orElseThrow().versions();
        assertTrue(any.includes(new Version(7, 0, 0)), "no bound: every version");
        VersionRange openFloor = PackageFilter.read("(&(osgi.wiring.package=p)(!(version<=1.0.0))(version<=1.5.0))").orElseThrow().versions();
        assertFalse(openFloor.includes(new Version(1, 0, 0)));
        assertTrue(openFloor.includes(new Version(1, 5, 0)));
    }

    @Test
    void aFilterThatIsNoConjunctionOfBoundsHasNoRange() {
        for (String filter : List.of(
                "(|(osgi.wiring.package=p)(osgi.wiring.package=q))",
                "(&(osgi.wiring.package=p)(osgi.wiring.package=q))",
                "(&(osgi.wiring.package=p)(version>=1.0.0)(version>=1.2.0))",
                "(&(osgi.wiring.package=p)(!(&(version>=1.0.0)(version<=2.0.0))))",
                "(&(osgi.wiring.package=p)(!(version=1.0.0)))",
                "(&(osgi.wiring.package=p)(version~=1.0.0))",
                "(&(osgi.wiring.package=p)(version>=one))",
                "(&(osgi.wiring.package=p)(version>=1.0.0)",
                "(osgi.wiring.package=p))",
                "osgi.wiring.package=p",
                "")) {
            assertEquals(java.util.Optional.empty(), PackageFilter.read(filter), filter);
        }
    }

    private static void assertRange(String pkg, String range, String filter) {
        PackageFilter read = PackageFilter.read(filter).orElseThrow(() -> new AssertionError("not read: " + filter));
        assertEquals(pkg, read.packageName(), filter);
        assertEquals(range, PackageFilter.text(read.versions()), filter);
    }

    /** Installs a bundle of nothing but a manifest with {@code headers} (name, value, ...), as location test:NAME. */
    private Bundle install(String symbolicName, String... headers) throws Exception {
        return framework.getBundleContext().installBundle("test:" + symbolicName, jar(symbolicName, headers));
    }

    private static InputStream jar(String symbolicName, String... headers) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue(Constants.BUNDLE_MANIFESTVERSION, "2");
        main.putValue(Constants.BUNDLE_SYMBOLICNAME, symbolicName);
        main.putValue(Constants.BUNDLE_VERSION, "1.0.0");
        for (int i = 0; i < headers.length; i += 2) {
            main.putValue(headers[i], headers[i + 1]);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes, manifest)) {
            out.finish();
        }
        return new ByteArrayInputStream(bytes.toByteArray());
    }
}
