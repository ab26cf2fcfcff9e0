package dev.thaw.shell.impl;

import dev.thaw.api.policy.PagePolicy;
import java.util.ArrayList;
import java.util.List;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;

/**
 * Policy bundles that are installed but not resolved, with the reason in the user's terms: a bundle
 * built against another major version of the policy API asks for a version range this Thaw does not
 * export, and the framework refuses to wire it (semantic versioning at resolve time).
 */
final class PolicyBundles {

    static final String SPI_PACKAGE = PagePolicy.class.getPackageName();

    private PolicyBundles() {}

    /** One line per installed, unresolved bundle that imports the policy SPI. */
    static List<String> unresolved(BundleContext context) {
        Version exported = exportedVersion();
        List<String> lines = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getState() != Bundle.INSTALLED) {
                continue;
            }
            String range = importedRange(b.getHeaders().get("Import-Package"));
            if (range == null) {
                continue;
            }
            boolean fits = exported != null && new VersionRange(range).includes(exported);
            lines.add(b.getSymbolicName() + " " + b.getVersion() + " (" + b.getLocation() + ") is not resolved: "
                    + (fits ? "it needs other packages this Thaw lacks (see var/log/thaw.log)"
                            : "it was built for policy API " + range + ", this Thaw has " + SPI_PACKAGE + " " + exported
                                    + " (another major version)"));
        }
        return lines;
    }

    /** The version range a bundle's Import-Package asks of the policy SPI, or null if it does not import it. */
    static String importedRange(String importPackage) {
        if (importPackage == null) {
            return null;
        }
        for (String clause : clauses(importPackage)) {
            String[] parts = clause.split(";");
            if (!parts[0].trim().equals(SPI_PACKAGE)) {
                continue;
            }
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].trim();
                if (p.startsWith("version=")) {
                    return p.substring("version=".length()).replace("\"", "").trim();
                }
            }
            return "0.0.0";
        }
        return null;
    }

    /** Header clauses, split at commas outside quotes. */
    private static List<String> clauses(String header) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (char c : header.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                out.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        out.add(current.toString());
        return out;
    }

    private static Version exportedVersion() {
        Bundle api = FrameworkUtil.getBundle(PagePolicy.class);
        if (api == null) {
            return null;
        }
        for (String clause : clauses(String.valueOf(api.getHeaders().get("Export-Package")))) {
            String[] parts = clause.split(";");
            if (parts[0].trim().equals(SPI_PACKAGE)) {
                for (int i = 1; i < parts.length; i++) {
                    String p = parts[i].trim();
                    if (p.startsWith("version=")) {
                        return Version.parseVersion(p.substring("version=".length()).replace("\"", "").trim());
                    }
                }
            }
        }
        return null;
    }
}
