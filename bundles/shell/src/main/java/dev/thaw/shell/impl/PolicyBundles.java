package dev.thaw.shell.impl;

import dev.thaw.api.policy.PagePolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;

/**
 * Policy bundles that are installed but not resolved, with the reason in the user's terms: a bundle
 * built against another major version of the policy API asks for a version range this Thaw does not
 * export, and the framework refuses to wire it (semantic versioning at resolve time). What a bundle asks
 * for is the framework's reading of its manifest: its revision's requirements in the package namespace.
 */
final class PolicyBundles {

    static final String SPI_PACKAGE = PagePolicy.class.getPackageName();

    private PolicyBundles() {}

    /**
     * One line per installed, unresolved bundle that requires the policy SPI, measured against the SPI
     * package the bundle of {@code context} (the shell) is wired to.
     */
    static List<String> unresolved(BundleContext context) {
        Optional<BundleCapability> spi = wiredSpi(context.getBundle());
        List<String> lines = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getState() != Bundle.INSTALLED) {
                continue;
            }
            BundleRevision revision = b.adapt(BundleRevision.class);
            if (revision == null) { // uninstalled meanwhile
                continue;
            }
            spiRequirement(revision).ifPresent(r -> lines.add(b.getSymbolicName() + " " + b.getVersion() + " ("
                    + b.getLocation() + ") is not resolved: " + reason(r, spi)));
        }
        return lines;
    }

    /** The requirement a revision declares on the policy SPI (an Import-Package of it), if it has one. */
    static Optional<BundleRequirement> spiRequirement(BundleRevision revision) {
        return revision.getDeclaredRequirements(PackageNamespace.PACKAGE_NAMESPACE).stream()
                .filter(r -> !PackageNamespace.RESOLUTION_DYNAMIC.equals(r.getDirectives().get(PackageNamespace.REQUIREMENT_RESOLUTION_DIRECTIVE)))
                .filter(r -> SPI_PACKAGE.equals(PackageFilter.read(filter(r)).map(PackageFilter::packageName).orElse(null)))
                .findFirst();
    }

    /** The capability that exports the policy SPI to {@code bundle}, if it is wired to one. */
    static Optional<BundleCapability> wiredSpi(Bundle bundle) {
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        if (wiring == null) {
            return Optional.empty();
        }
        return wiring.getRequiredWires(PackageNamespace.PACKAGE_NAMESPACE).stream()
                .map(BundleWire::getCapability)
                .filter(c -> SPI_PACKAGE.equals(c.getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE)))
                .findFirst();
    }

    private static String reason(BundleRequirement requirement, Optional<BundleCapability> spi) {
        if (spi.isPresent() && matches(requirement, spi.get())) {
            return "it needs other packages this Thaw lacks (see var/log/thaw.log)";
        }
        Optional<VersionRange> range = PackageFilter.read(filter(requirement)).map(PackageFilter::versions);
        String wanted = range.map(PackageFilter::text).orElse(filter(requirement));
        if (spi.isEmpty()) {
            return "it was built for policy API " + wanted + ", this Thaw exports no " + SPI_PACKAGE;
        }
        Version exported = version(spi.get());
        return "it was built for policy API " + wanted + ", this Thaw has " + SPI_PACKAGE + " " + exported + " ("
                + range.map(r -> r.getLeft().getMajor() != exported.getMajor() ? "another major version"
                        : exported.compareTo(r.getLeft()) < 0 ? "older than it needs" : "newer than it takes")
                        .orElse("not in its range") + ")";
    }

    /** Whether the framework's filter of {@code requirement} accepts {@code capability}. */
    private static boolean matches(BundleRequirement requirement, BundleCapability capability) {
        try {
            return FrameworkUtil.createFilter(filter(requirement)).matches(capability.getAttributes());
        } catch (InvalidSyntaxException e) {
            return false;
        }
    }

    private static String filter(BundleRequirement requirement) {
        return String.valueOf(requirement.getDirectives().get(PackageNamespace.REQUIREMENT_FILTER_DIRECTIVE));
    }

    private static Version version(BundleCapability capability) {
        Map<String, Object> attributes = capability.getAttributes();
        return attributes.get(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE) instanceof Version v ? v : Version.emptyVersion;
    }
}
