package dev.thaw.itests;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether tests that run guests can run here: the same rule as thaw-testing's {@code @RequiresKvm} for unit
 * tests. Without a usable /dev/kvm they skip, unless {@code THAW_REQUIRE_KVM=1} (as in CI), which makes
 * them fail instead.
 */
final class Kvm {

    /** Overrides the device's path, to try the skip and fail paths on a machine that has KVM. */
    static final String DEVICE_PROPERTY = "thaw.itest.kvm";
    static final String REQUIRE_ENV = "THAW_REQUIRE_KVM";

    private Kvm() {
    }

    /** Null if KVM is usable, else why not. */
    static String unavailableBecause() {
        Path device = Path.of(System.getProperty(DEVICE_PROPERTY, "/dev/kvm"));
        if (Files.isReadable(device) && Files.isWritable(device)) {
            return null;
        }
        return Files.exists(device) ? device + " is not readable and writable by this user" : device + " is absent";
    }

    static boolean required() {
        return "1".equals(System.getenv(REQUIRE_ENV));
    }
}
