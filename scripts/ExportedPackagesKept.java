import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;

/**
 * Refuses a bundle that no longer exports a package its baseline exported (docs/api-versioning.md).
 * bnd's baseline leaves this to the bundle's own version, which it does not check below 1.0.0, and Thaw's
 * bundles are 0.x: without this a removed package would pass, and every bundle importing it would stop
 * resolving. Run by the build of each module that exports packages, as
 * {@code java ExportedPackagesKept.java BASELINE_JAR BUNDLE_JAR COMMIT}; exits 1 with one line per package.
 */
public final class ExportedPackagesKept {

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("[ERROR] thaw API baseline: usage: ExportedPackagesKept BASELINE_JAR BUNDLE_JAR COMMIT");
            System.exit(2);
        }
        Path baselineJar = Path.of(args[0]);
        Path bundleJar = Path.of(args[1]);
        Map<String, String> before = exports(baselineJar);
        Map<String, String> now = exports(bundleJar);
        List<String> removed = new ArrayList<>();
        before.forEach((name, version) -> {
            if (!now.containsKey(name)) {
                removed.add(name + " " + version);
            }
        });
        for (String gone : removed) {
            System.err.println("[ERROR] thaw API baseline: " + bundleJar.getFileName() + " no longer exports " + gone
                    + ", which the last release (thaw.baseline.commit " + args[2] + ") exports: bundles that import it"
                    + " would not resolve; keep it exported (see docs/api-versioning.md)");
        }
        System.exit(removed.isEmpty() ? 0 : 1);
    }

    /** The Export-Package header of {@code jar}: package name to its version ("0.0.0" where none is given). */
    static Map<String, String> exports(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            if (file.getManifest() == null) {
                throw new IOException(jar + " has no manifest");
            }
            String header = file.getManifest().getMainAttributes().getValue("Export-Package");
            Map<String, String> packages = new LinkedHashMap<>();
            for (String clause : splitOutsideQuotes(header == null ? "" : header, ',')) {
                List<String> names = new ArrayList<>();
                String version = "0.0.0";
                for (String part : splitOutsideQuotes(clause, ';')) {
                    String p = part.strip();
                    if (p.startsWith("version=")) {
                        version = p.substring("version=".length()).replace("\"", "");
                    } else if (!p.contains("=") && !p.isEmpty()) {
                        names.add(p);
                    }
                }
                for (String name : names) {
                    packages.put(name, version);
                }
            }
            return packages;
        }
    }

    /** {@code text} split at {@code separator} where it is not inside double quotes (uses:="a,b" holds commas). */
    static List<String> splitOutsideQuotes(String text, char separator) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (char c : text.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == separator && !quoted) {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (!current.isEmpty()) {
            parts.add(current.toString());
        }
        return parts;
    }
}
