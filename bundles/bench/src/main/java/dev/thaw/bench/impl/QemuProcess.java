package dev.thaw.bench.impl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.bench.impl.QemuPeer.QemuException;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.net.SocketException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One stopped QEMU (TCG, {@code -S}, no default devices) and its QMP connection; {@link #close} ends the process in every case. */
final class QemuProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QemuProcess.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path tmp = Files.createTempDirectory("thaw-qemu-");
    private final Path socket = tmp.resolve("qmp");
    private final Path stderr = tmp.resolve("stderr");
    /** QMP messages in arrival order, then a String saying why the stream ended. */
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    /** Events that arrived while a command waited for its reply. */
    private final ArrayDeque<JsonNode> events = new ArrayDeque<>();
    private Process process;
    private SocketChannel qmp;

    QemuProcess(List<String> machine, String... extra) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(QemuPeer.QEMU, "-accel", "tcg", "-S", "-nodefaults", "-nographic",
                "-qmp", "unix:" + QemuPeer.option(socket) + ",server=on,wait=off"));
        command.addAll(machine);
        command.addAll(List.of(extra));
        LOG.debug("starting {}", command);
        try {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile()).start();
            qmp = connect();
            Thread.ofVirtual().name("qmp-" + process.pid()).start(this::readLines);
            if (!next(deadline()).has("QMP")) {
                throw failure("QMP did not greet");
            }
            execute("qmp_capabilities", null);
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** QEMU creates the socket a little after it starts; connecting is retried until it listens. */
    private SocketChannel connect() throws IOException, InterruptedException {
        for (long deadline = deadline(); System.nanoTime() - deadline < 0; Thread.sleep(5)) {
            if (!process.isAlive()) {
                throw failure("QEMU ended before QMP listened");
            }
            try {
                return SocketChannel.open(UnixDomainSocketAddress.of(socket));
            } catch (SocketException e) {
                // no socket file yet (ENOENT), or QEMU not listening on it yet (ECONNREFUSED)
            }
        }
        throw failure("QMP did not listen within " + QemuPeer.TIMEOUT.toSeconds() + " s");
    }

    /** On its own thread: each QMP line into {@code received}, then why the stream ended (QEMU or close). */
    private void readLines() {
        try (BufferedReader in = new BufferedReader(Channels.newReader(qmp, StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                received.add(JSON.readTree(line));
            }
            received.add("QEMU closed QMP");
        } catch (IOException e) {
            received.add("reading QMP: " + e);
        }
    }

    /** Both sides need mapped-ram, and "events" for QEMU to send MIGRATION events at all. */
    void enableMappedRam() throws InterruptedException {
        enableCapabilities("mapped-ram", "events");
    }

    /** The arguments of {@code migrate} and {@code migrate-incoming}. */
    static ObjectNode uri(String uri) {
        return JSON.createObjectNode().put("uri", uri);
    }

    /** Turns the named migration capabilities on. */
    void enableCapabilities(String... names) throws InterruptedException {
        ObjectNode arguments = JSON.createObjectNode();
        var list = arguments.putArray("capabilities");
        for (String name : names) {
            list.add(JSON.createObjectNode().put("capability", name).put("state", true));
        }
        execute("migrate-set-capabilities", arguments);
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
    JsonNode execute(String command, ObjectNode arguments) throws InterruptedException {
        ObjectNode request = JSON.createObjectNode().put("execute", command);
        if (arguments != null) {
            request.set("arguments", arguments);
        }
        try {
            ByteBuffer out = ByteBuffer.wrap((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                qmp.write(out);
            }
        } catch (IOException e) {
            throw failure("sending " + command + ": " + e.getMessage());
        }
        for (long deadline = deadline(); ; ) {
            JsonNode message = next(deadline);
            if (message.has("event")) {
                events.add(message);
            } else if (message.has("error")) {
                throw failure(command + ": " + message.path("error").path("desc").asText());
            } else if (message.has("return")) {
                return message.get("return");
            }
        }
    }

    /** Waits for MIGRATION "completed"; "failed" or "cancelled" throws with QEMU's reason. */
    void awaitMigrationCompleted() throws InterruptedException {
        for (long deadline = deadline(); ; ) {
            JsonNode message = events.isEmpty() ? next(deadline) : events.poll();
            String status = message.path("data").path("status").asText();
            if (!"MIGRATION".equals(message.path("event").asText())) {
                continue; // SHUTDOWN, STOP and the like
            } else if (status.equals("completed")) {
                return;
            } else if (status.equals("failed") || status.equals("cancelled")) {
                String reason = "";
                try {
                    reason = ": " + execute("query-migrate", null).path("error-desc").asText("");
                } catch (QemuException e) {
                    // a failed incoming QEMU exits at once; its stderr, in the message, says why
                }
                throw failure("migration " + status + reason);
            }
        }
    }

    /** The next QMP message (a reply, an event or the greeting). */
    private JsonNode next(long deadline) throws InterruptedException {
        Object message = received.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (message instanceof JsonNode node) {
            return node;
        } else if (message != null) {
            received.add(message); // the stream stays ended for later waits too
        }
        throw failure(message == null ? "no answer on QMP within " + QemuPeer.TIMEOUT.toSeconds() + " s" : (String) message);
    }

    private static long deadline() {
        return System.nanoTime() + QemuPeer.TIMEOUT.toNanos();
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
        try {
            if (qmp != null) {
                qmp.close(); // also ends the reader thread
            }
        } catch (IOException e) {
            LOG.debug("closing QMP: {}", e.toString());
        }
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(QemuPeer.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly(); // never leave a QEMU behind, even when asked to hurry
                Thread.currentThread().interrupt();
            }
        }
        try {
            try (Stream<Path> left = Files.list(tmp)) {
                for (Path p : left.toList()) {
                    Files.deleteIfExists(p); // QMP, stderr and the sockets handed out
                }
            }
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            LOG.debug("removing {}: {}", tmp, e.toString());
        }
    }
}
