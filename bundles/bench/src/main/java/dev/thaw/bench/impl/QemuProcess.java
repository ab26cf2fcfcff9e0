package dev.thaw.bench.impl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.bench.impl.QemuPeer.QemuException;
import dev.thaw.support.qemu.QemuEnd;
import dev.thaw.support.qemu.QmpClient;
import dev.thaw.support.qemu.QmpException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stopped QEMU (TCG, {@code -S}, no default devices) and its monitor, spoken to with the shared
 * {@link QmpClient}; {@link #close} ends the process in every case.
 */
final class QemuProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QemuProcess.class);

    private final Path tmp = Files.createTempDirectory("thaw-qemu-");
    private final Path socket = tmp.resolve("qmp");
    private final Path stderr = tmp.resolve("stderr");
    private final long startNanos = System.nanoTime();
    private final long monitorNanos;
    private Process process;
    private QmpClient qmp;

    QemuProcess(List<String> machine, String... extra) throws IOException {
        List<String> command = new ArrayList<>(List.of(QemuPeer.QEMU, "-accel", "tcg", "-S", "-nodefaults", "-nographic",
                "-qmp", "unix:" + QemuPeer.option(socket) + ",server=on,wait=off"));
        command.addAll(machine);
        command.addAll(List.of(extra));
        LOG.debug("starting {}", command);
        try {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile()).start();
            qmp = QmpClient.connect(socket, QemuPeer.TIMEOUT, process::isAlive);
            monitorNanos = System.nanoTime() - startNanos;
        } catch (QmpException e) {
            QemuException failure = failure(e.getMessage());
            close();
            throw failure;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** From starting the process to its monitor's answer to {@code qmp_capabilities}: QEMU's own start-up. */
    Duration startUp() {
        return Duration.ofNanos(monitorNanos);
    }

    /** Both sides need mapped-ram, and "events" for QEMU to send MIGRATION events at all. */
    void enableMappedRam() {
        enableCapabilities("mapped-ram", "events");
    }

    /** Turns the named migration capabilities on. */
    void enableCapabilities(String... names) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (String name : names) {
            list.add(Map.of("capability", name, "state", true));
        }
        execute("migrate-set-capabilities", Map.of("capabilities", list));
    }

    /** A path for a socket of this QEMU's, in its own temporary folder, removed by {@link #close}. */
    Path socketPath(String name) {
        return tmp.resolve(name);
    }

    /** Waits for QEMU to exit, after a {@code quit}; false when it has not within {@code seconds}. */
    boolean awaitExit(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS);
    }

    /** Runs one command and returns its "return"; events arriving before the reply are kept in order. */
    JsonNode execute(String command, Map<String, ?> arguments) {
        try {
            return qmp.execute(command, arguments);
        } catch (QmpException e) {
            throw failure(e.getMessage());
        }
    }

    /** Waits for MIGRATION "completed"; "failed" or "cancelled" throws with QEMU's reason. */
    void awaitMigrationCompleted() {
        for (long deadline = System.nanoTime() + QemuPeer.TIMEOUT.toNanos(); ; ) {
            JsonNode message;
            try {
                message = qmp.nextEvent(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (QmpException e) {
                throw failure(e.getMessage());
            }
            if (message == null) {
                throw failure("no MIGRATION event within " + QemuPeer.TIMEOUT.toSeconds() + " s");
            }
            String status = message.path("data").path("status").asText();
            if (!"MIGRATION".equals(message.path("event").asText())) {
                continue; // SHUTDOWN, STOP and the like
            } else if (status.equals("completed")) {
                return;
            } else if (status.equals("failed") || status.equals("cancelled")) {
                String reason = "";
                try {
                    reason = ": " + qmp.execute("query-migrate").path("error-desc").asText("");
                } catch (QmpException e) {
                    // a failed incoming QEMU exits at once; its stderr, in the message, says why
                }
                throw failure("migration " + status + reason);
            }
        }
    }

    QemuException failure(String what) {
        String tail;
        try {
            String all = Files.readString(stderr).strip();
            tail = all.isEmpty() ? "(empty)" : all.substring(Math.max(0, all.length() - 2000));
        } catch (IOException e) {
            tail = "(unreadable: " + e.getMessage() + ")";
        }
        String exit = process != null && !process.isAlive() ? " (QEMU exited with " + process.exitValue() + ")" : "";
        return new QemuException(what + exit + "; QEMU stderr: " + tail);
    }

    /** Ends QEMU (SIGTERM, then SIGKILL) whatever state it is in, and removes the socket and stderr. */
    @Override
    public void close() {
        if (qmp != null) {
            qmp.close();
        }
        if (process != null) {
            QemuEnd.end(process);
        }
        try {
            QemuEnd.removeFolder(tmp); // QMP, stderr and the sockets handed out
        } catch (IOException e) {
            LOG.debug("removing {}: {}", tmp, e.toString());
        }
    }
}
