package dev.thaw.shell.impl;

import java.util.Optional;
import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;
import org.osgi.framework.namespace.PackageNamespace;

/**
 * What a requirement in the {@code osgi.wiring.package} namespace asks for, read back from the filter the
 * framework made of an Import-Package clause: the package, and the version range as a conjunction of
 * bounds, e.g. {@code (&(osgi.wiring.package=p)(version>=2.0.0)(!(version>=3.0.0)))} is {@code p} in
 * {@code [2.0,3)}. Felix writes that shape, Equinox nests the bounds in a further {@code &}; both read.
 * Used only to tell a user which range a bundle wants: whether a package fits is the filter's own match.
 *
 * @param packageName the package, null where the filter does not name exactly one
 * @param versions the versions the filter accepts ({@code [0.0.0,∞)} where it has no bound)
 */
record PackageFilter(String packageName, VersionRange versions) {

    /** The package and range of {@code filter}; empty where it is not a conjunction of those terms (e.g. an {@code |}). */
    static Optional<PackageFilter> read(String filter) {
        Reader reader = new Reader(filter);
        try {
            reader.filter(false);
            if (reader.at < filter.length()) {
                return Optional.empty();
            }
            return Optional.of(new PackageFilter(reader.packageName, new VersionRange(
                    reader.floorOpen ? VersionRange.LEFT_OPEN : VersionRange.LEFT_CLOSED,
                    reader.floor == null ? Version.emptyVersion : reader.floor,
                    reader.ceiling, reader.ceilingOpen ? VersionRange.RIGHT_OPEN : VersionRange.RIGHT_CLOSED)));
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return Optional.empty();
        }
    }

    /**
     * {@code range} as bnd writes it into Import-Package: trailing zero parts dropped, down to
     * {@code major.minor} for the floor and {@code major} for the ceiling ({@code [2.0,3)}).
     */
    static String text(VersionRange range) {
        if (range.getRight() == null) {
            return shortest(range.getLeft(), 2);
        }
        return range.getLeftType() + shortest(range.getLeft(), 2) + "," + shortest(range.getRight(), 1) + range.getRightType();
    }

    private static String shortest(Version v, int minParts) {
        if (!v.getQualifier().isEmpty()) {
            return v.toString();
        }
        int[] parts = {v.getMajor(), v.getMinor(), v.getMicro()};
        int n = parts.length;
        while (n > minParts && parts[n - 1] == 0) {
            n--;
        }
        StringBuilder s = new StringBuilder().append(parts[0]);
        for (int i = 1; i < n; i++) {
            s.append('.').append(parts[i]);
        }
        return s.toString();
    }

    /** A recursive reader of RFC 1960 filters that keeps the package and version terms (others are ignored). */
    private static final class Reader {
        private final String text;
        private int at;
        private String packageName;
        private Version floor;
        private boolean floorOpen;
        private Version ceiling;
        private boolean ceilingOpen;

        Reader(String text) {
            this.text = text;
        }

        /** One {@code (...)}; {@code negated} when under an odd number of {@code !}. */
        void filter(boolean negated) {
            expect('(');
            switch (text.charAt(at)) {
                case '&' -> {
                    if (negated) {
                        throw new IllegalArgumentException("a negated conjunction is a disjunction");
                    }
                    at++;
                    do {
                        filter(false);
                    } while (text.charAt(at) == '(');
                }
                case '!' -> {
                    at++;
                    filter(!negated);
                }
                case '|' -> throw new IllegalArgumentException("a disjunction has no one range");
                default -> term(negated);
            }
            expect(')');
        }

        private void term(boolean negated) {
            int opAt = at;
            while ("=<>~()".indexOf(text.charAt(opAt)) < 0) {
                opAt++;
            }
            if (text.charAt(opAt) == '(' || text.charAt(opAt) == ')') {
                throw new IllegalArgumentException("no operator at " + opAt);
            }
            String attribute = text.substring(at, opAt).trim();
            String op = text.charAt(opAt) == '=' ? "=" : text.substring(opAt, opAt + 2);
            at = opAt + op.length();
            StringBuilder value = new StringBuilder();
            while (text.charAt(at) != ')') {
                if (text.charAt(at) == '\\') {
                    at++;
                }
                value.append(text.charAt(at++));
            }
            if (attribute.equals(PackageNamespace.PACKAGE_NAMESPACE) && op.equals("=") && !negated) {
                if (packageName != null) {
                    throw new IllegalArgumentException("two packages");
                }
                packageName = value.toString();
            } else if (attribute.equals(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE)) {
                bound(op, Version.parseVersion(value.toString().trim()), negated);
            }
        }

        /** {@code >=} is a closed floor, negated an open ceiling; {@code <=} the other way round. */
        private void bound(String op, Version v, boolean negated) {
            switch (op) {
                case ">=" -> {
                    if (negated) {
                        ceiling(v, true);
                    } else {
                        floor(v, false);
                    }
                }
                case "<=" -> {
                    if (negated) {
                        floor(v, true);
                    } else {
                        ceiling(v, false);
                    }
                }
                case "=" -> {
                    if (negated) {
                        throw new IllegalArgumentException("all but one version");
                    }
                    floor(v, false);
                    ceiling(v, false);
                }
                default -> throw new IllegalArgumentException("no range with " + op);
            }
        }

        private void floor(Version v, boolean open) {
            if (floor != null) {
                throw new IllegalArgumentException("two floors");
            }
            floor = v;
            floorOpen = open;
        }

        private void ceiling(Version v, boolean open) {
            if (ceiling != null) {
                throw new IllegalArgumentException("two ceilings");
            }
            ceiling = v;
            ceilingOpen = open;
        }

        private void expect(char c) {
            if (text.charAt(at) != c) {
                throw new IllegalArgumentException("expected " + c + " at " + at);
            }
            at++;
        }
    }
}
