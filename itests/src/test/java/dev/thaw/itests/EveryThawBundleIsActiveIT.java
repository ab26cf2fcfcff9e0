package dev.thaw.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.service.component.runtime.ServiceComponentRuntime;

/**
 * The assembled distribution starts: in a Felix holding exactly its bundles, every bundle is active (fragments
 * resolved), and Declarative Services has satisfied every component of Thaw's bundles.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class EveryThawBundleIsActiveIT {

    /** How long SCR may take to settle once every bundle has started. */
    static final Duration SCR_SETTLE = Duration.ofSeconds(5);

    @Inject
    BundleContext context;

    @Inject
    ServiceComponentRuntime scr;

    @Configuration
    public Option[] config() {
        return ThawDistribution.options();
    }

    @Test
    public void everyJarOfTheDistributionIsInstalledAndNothingElseButPaxExam() {
        Set<String> expected = new TreeSet<>();
        for (Path jar : ThawDistribution.bundleJars()) {
            expected.add(ThawDistribution.location(jar));
        }
        Set<String> fromDistribution = new TreeSet<>();
        List<String> others = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (expected.contains(b.getLocation())) {
                fromDistribution.add(b.getLocation());
            } else if (b.getBundleId() != 0 && !isPaxExam(b)) {
                others.add(b.getSymbolicName() + " from " + b.getLocation());
            }
        }
        assertEquals("bundles of " + ThawDistribution.directory() + " installed", expected, fromDistribution);
        assertTrue("bundles neither from the distribution nor Pax Exam's: " + others, others.isEmpty());
    }

    @Test
    public void everyBundleIsActiveOrAResolvedFragment() {
        List<String> wrong = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            int wanted = fragment ? Bundle.RESOLVED : Bundle.ACTIVE;
            if (b.getState() != wanted) {
                wrong.add(b.getSymbolicName() + " " + b.getVersion() + " is " + state(b.getState()) + ", not " + state(wanted));
            }
        }
        assertTrue("bundles not started: " + wrong, wrong.isEmpty());
    }

    @Test
    public void everyThawBundleIsActive() {
        List<String> thaw = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (Components.isThaw(b)) {
                thaw.add(b.getSymbolicName());
                assertEquals(b.getSymbolicName() + " state", state(Bundle.ACTIVE), state(b.getState()));
            }
        }
        assertTrue("dev.thaw.api among " + thaw, thaw.contains("dev.thaw.api"));
    }

    @Test
    public void scrSatisfiesEveryComponentOfThawBundles() throws InterruptedException {
        assertFalse("Thaw's bundles declare no components at all",
                Components.thawComponents(context, scr).isEmpty());
        List<String> problems = Await.until(SCR_SETTLE, () -> Components.problems(context, scr), List::isEmpty);
        assertTrue("components of Thaw's bundles that SCR has not satisfied within " + SCR_SETTLE.toSeconds() + " s:\n  "
                + String.join("\n  ", problems), problems.isEmpty());
    }

    @Test
    public void distributionBundlesGetSlf4j2FromTheSystemBundle() {
        Set<String> distribution = new TreeSet<>();
        for (Path jar : ThawDistribution.bundleJars()) {
            distribution.add(ThawDistribution.location(jar));
        }
        String slf4j = ThawDistribution.slf4jVersion();
        List<String> wrong = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            BundleWiring wiring = b.adapt(BundleWiring.class);
            if (!distribution.contains(b.getLocation()) || wiring == null) {
                continue;
            }
            for (BundleWire wire : wiring.getRequiredWires(PackageNamespace.PACKAGE_NAMESPACE)) {
                Map<String, Object> export = wire.getCapability().getAttributes();
                String pkg = (String) export.get(PackageNamespace.PACKAGE_NAMESPACE);
                Object version = export.get(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE);
                if (pkg.startsWith("org.slf4j") && (wire.getProvider().getBundle().getBundleId() != 0
                        || !slf4j.equals(String.valueOf(version)))) {
                    wrong.add(b.getSymbolicName() + " gets " + pkg + " " + version + " from "
                            + wire.getProvider().getBundle().getSymbolicName());
                }
            }
        }
        assertTrue("SLF4J must come from the class path through the system bundle, as in the launcher: " + wrong,
                wrong.isEmpty());
    }

    /** Pax Exam's own bundles come from its link assembly; the probe (the test classes) is installed from a stream. */
    private static boolean isPaxExam(Bundle b) {
        return b.getLocation().startsWith("link:classpath:") || "local".equals(b.getLocation());
    }

    private static String state(int state) {
        return switch (state) {
            case Bundle.UNINSTALLED -> "UNINSTALLED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "state " + state;
        };
    }
}
