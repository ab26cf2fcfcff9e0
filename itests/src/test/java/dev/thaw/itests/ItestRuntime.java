package dev.thaw.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The vCPU runtime this run of the itests boots its guests on: failsafe runs them once per runtime,
 * {@code emulated} everywhere and {@code kvm} as well (property {@value #PROPERTY}); the framework gets it
 * as {@code runtime} in config/dev.thaw.machine.cfg. A KVM run where {@code /dev/kvm} does not open is
 * skipped, unless {@code THAW_REQUIRE_KVM=1} (CI sets it where it opens), which makes it fail instead: the
 * same rule as thaw-testing's {@code Runtimes} for unit tests.
 */
final class ItestRuntime {

    static final String PROPERTY = "thaw.itest.runtime";
    static final String KVM = "kvm";
    /** Overrides the device's path, to try the skip and fail paths on a machine that has KVM. */
    static final String DEVICE_PROPERTY = "thaw.itest.kvm";
    static final String REQUIRE_ENV = "THAW_REQUIRE_KVM";

    private ItestRuntime() {
    }

    /** The runtime of this run. */
    static String name() {
        return System.getProperty(PROPERTY, "emulated");
    }

    /** Null if this run's runtime can run guests here, else why not. */
    static String unavailableBecause() {
        if (!name().equals(KVM)) {
            return null;
        }
        Path device = Path.of(System.getProperty(DEVICE_PROPERTY, "/dev/kvm"));
        if (!Files.exists(device)) {
            return device + " is absent";
        }
        if (!isCharacterDevice(device)) {
            return device + " is not a character device";
        }
        if (Files.isReadable(device) && Files.isWritable(device)) {
            return null;
        }
        return device + " is not readable and writable by this user";
    }

    static boolean required() {
        return "1".equals(System.getenv(REQUIRE_ENV));
    }

    private static boolean isCharacterDevice(Path path) {
        try {
            return ((Integer) Files.getAttribute(path, "unix:mode") & 0170000) == 0020000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
