package dev.thaw.qemu.impl;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The QEMU program the runtime starts, as found on this host: its path and version, or why it cannot serve.
 * mapped-ram files came with QEMU 9.0; the postcopy stream Thaw sends is the one QEMU 9 and 10 read.
 *
 * @param binary the program, absolute; null when not found
 * @param version e.g. {@code 10.0.2}; empty when unknown
 * @param problem why it cannot run Thaw's VMs, or empty
 */
record QemuInstallation(Path binary, String version, Optional<String> problem) {

    static final int MIN_MAJOR = 9;
    /** The last QEMU whose postcopy listen thread cleans up itself: 10.1 ({@link #takesZeroPagesOnRequest}). */
    static final int LISTEN_THREAD_CLEANUP_UNTIL_MAJOR = 10;
    static final int LISTEN_THREAD_CLEANUP_UNTIL_MINOR = 1;
    private static final Pattern VERSION = Pattern.compile("QEMU emulator version (\\d+)\\.(\\d+)(\\.\\d+)?");
    private static final Pattern MAJOR_MINOR = Pattern.compile("(\\d+)\\.(\\d+)(\\.\\d+)?");

    /** Finds {@code program} (a path, or a name looked up on the PATH) and asks it its version. */
    static QemuInstallation find(String program) {
        Optional<Path> found = locate(program);
        if (found.isEmpty()) {
            return new QemuInstallation(null, "", Optional.of(program + " is not "
                    + (program.contains("/") ? "an executable file" : "on the PATH")
                    + " (install QEMU 10, e.g. qemu-system-x86 from bookworm-backports; config/dev.thaw.qemu.cfg names the program)"));
        }
        Path binary = found.get();
        String out;
        try {
            Process p = new ProcessBuilder(binary.toString(), "-version").redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new QemuInstallation(binary, "", Optional.of(binary + " -version did not answer within 10 s"));
            }
        } catch (IOException e) {
            return new QemuInstallation(binary, "", Optional.of(binary + " cannot be run: " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new QemuInstallation(binary, "", Optional.of("interrupted while asking " + binary + " its version"));
        }
        return of(binary, out);
    }

    /** The installation {@code binary} is, from what its {@code -version} printed. */
    static QemuInstallation of(Path binary, String versionOutput) {
        Matcher m = VERSION.matcher(versionOutput);
        if (!m.find()) {
            return new QemuInstallation(binary, "", Optional.of(binary + " -version printed no QEMU version: "
                    + versionOutput.lines().findFirst().orElse("(nothing)")));
        }
        String version = m.group(1) + "." + m.group(2) + (m.group(3) == null ? "" : m.group(3));
        if (Integer.parseInt(m.group(1)) < MIN_MAJOR) {
            return new QemuInstallation(binary, version, Optional.of("QEMU " + version + " (" + binary
                    + ") has no mapped-ram migration, which came with QEMU " + MIN_MAJOR + ".0; install QEMU 10"));
        }
        return new QemuInstallation(binary, version, Optional.empty());
    }

    /**
     * Whether a lazy restore into this QEMU may send zero pages only when asked for (docs/qemu-postcopy.md 10.2):
     * up to QEMU 10.1 the destination's listen thread unregisters guest RAM from userfaultfd itself once the stream
     * has ended, which wakes every thread still waiting for a page, and the runtime's QEMUs have anonymous private
     * RAM, which then reads as zeros. From 10.2 that cleanup runs in a main-loop bottom half, which never runs while
     * the main thread waits for a page nobody sends. False when the version is unknown.
     */
    boolean takesZeroPagesOnRequest() {
        Matcher m = MAJOR_MINOR.matcher(version);
        if (!m.matches()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major >= MIN_MAJOR && (major < LISTEN_THREAD_CLEANUP_UNTIL_MAJOR
                || major == LISTEN_THREAD_CLEANUP_UNTIL_MAJOR && minor <= LISTEN_THREAD_CLEANUP_UNTIL_MINOR);
    }

    private static Optional<Path> locate(String program) {
        if (program.contains("/")) {
            Path p = Path.of(program).toAbsolutePath();
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return Optional.of(Path.of(dir, program).toAbsolutePath());
            }
        }
        return Optional.empty();
    }
}
