package dev.thaw.qemu.postcopy.impl;

import dev.thaw.support.qemu.QmpClient;
import dev.thaw.support.qemu.QmpException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;

/**
 * A QEMU 10 child process for a test: TCG, a pc machine with 64 MiB and no default devices, the RTC on the VM
 * clock, its monitor on a unix socket in the test's folder and its output in a file there. {@link #close()}
 * kills it and waits for it, always.
 */
final class Qemu implements AutoCloseable {

    static final String BINARY = "qemu-system-x86_64";
    static final List<String> MACHINE = List.of("-accel", "tcg", "-M", "pc", "-m", "64", "-nodefaults", "-display", "none",
            "-rtc", "base=2025-01-01T00:00:00,clock=vm");

    private final Process process;
    private final Path output;
    private final QmpClient qmp;

    private Qemu(Process process, Path output, QmpClient qmp) {
        this.process = process;
        this.output = output;
        this.qmp = qmp;
    }

    /**
     * Skips the test where QEMU is not installed, naming what is missing; fails instead where THAW_REQUIRE_QEMU=1
     * (CI installs QEMU 10, so there these tests never skip).
     */
    static void assumeInstalled() {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            found |= !dir.isEmpty() && Files.isExecutable(Path.of(dir, BINARY));
        }
        String why = BINARY + " is not on the PATH (install QEMU 10, e.g. from bookworm-backports, see ENVIRONMENT.md)";
        if (!found && "1".equals(System.getenv("THAW_REQUIRE_QEMU"))) {
            fail(why + ", and THAW_REQUIRE_QEMU=1 requires it");
        }
        Assumptions.assumeTrue(found, why);
    }

    /** Starts QEMU named {@code name} in {@code dir} with the test machine and {@code extra} options. */
    static Qemu start(Path dir, String name, String... extra) throws IOException {
        Path monitor = dir.resolve(name + ".qmp");
        Path output = dir.resolve(name + ".out");
        List<String> command = new ArrayList<>();
        command.add(BINARY);
        command.addAll(MACHINE);
        command.addAll(List.of(extra));
        command.addAll(List.of("-qmp", "unix:" + monitor + ",server=on,wait=off"));
        Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            return new Qemu(p, output, QmpClient.connect(monitor, Duration.ofSeconds(10)));
        } catch (RuntimeException e) {
            kill(p);
            throw new IllegalStateException(e.getMessage() + "; QEMU said: " + Files.readString(output), e);
        }
    }

    QmpClient qmp() {
        return qmp;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    String output() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    void capabilities(Map<String, Boolean> states) {
        qmp.execute("migrate-set-capabilities", Map.of("capabilities", states.entrySet().stream()
                .map(e -> Map.of("capability", e.getKey(), "state", e.getValue())).toList()));
    }

    /** Polls query-migrate until its status is one of {@code until}; fails the test at {@code timeout}. */
    JsonNode awaitMigration(Set<String> until, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode r = qmp.execute("query-migrate");
            if (until.contains(r.path("status").asText())) {
                return r;
            }
            if (System.nanoTime() > deadline) {
                fail("QEMU's migration did not reach " + until + " within " + timeout.toMillis() + " ms: " + r);
            }
            Thread.sleep(5);
        }
    }

    /** Saves the VM with QEMU's own migration to a mapped-ram file {@code file}. */
    void saveMappedRam(Path file) throws InterruptedException {
        capabilities(Map.of("postcopy-ram", false, "mapped-ram", true));
        qmp.execute("migrate", Map.of("uri", "file:" + file));
        JsonNode r = awaitMigration(Set.of("completed", "failed"), Duration.ofSeconds(20));
        assertEquals("completed", r.path("status").asText(), "saving to " + file + ": " + r);
    }

    /** Kills it now (SIGKILL), as a crash would. */
    void kill() {
        kill(process);
    }

    @Override
    public void close() {
        qmp.close();
        kill(process);
    }

    private static void kill(Process p) {
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asserts with ps that process {@code pid} is gone. */
    static void assertGone(long pid) throws IOException, InterruptedException {
        Process ps = new ProcessBuilder("ps", "-o", "pid=,comm=", "-p", Long.toString(pid)).redirectErrorStream(true).start();
        String listed = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        ps.waitFor();
        assertEquals("", listed, "ps still lists QEMU's process " + pid);
        assertFalse(ProcessHandle.of(pid).isPresent(), "process " + pid + " is still there");
    }
}
