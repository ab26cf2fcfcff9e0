package dev.thaw.bench.impl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The peer row of the restore benchmark: QEMU's own eager load of a mapped-ram snapshot file.
 *
 * <p>A mapped-ram file holds every RAM block at a fixed offset, zero pages as holes; QEMU loads it with
 * preads straight into guest memory and could resume the guest only when all of it is in. QEMU is driven
 * over QMP on a UNIX socket. No guest code ever runs (the machine stays stopped with {@code -S}), so TCG
 * serves both sides; both must use the same accelerator anyway, since KVM brings other devices along.
 */
final class QemuPeer {

    private static final Logger LOG = LoggerFactory.getLogger(QemuPeer.class);
    private static final String QEMU = "qemu-system-x86_64";
    /** mapped-ram arrived in QEMU 9.0; older versions reject the capability. */
    private static final int MIN_MAJOR = 9;
    private static final Pattern VERSION = Pattern.compile("version (\\d+\\.\\d+(?:\\.\\d+)?)");
    /** Guest address of the data: above what the microvm firmware uses at the bottom of memory. */
    static final long DATA_ADDRESS = 0x200000;
    /** microvm maps at most the first 3 GiB of RAM below 4 GiB (the rest above), and the data is one piece. */
    private static final long LOW_RAM_END = 0xC000_0000L;
    /** Bound on every wait for QEMU; running out throws with the tail of QEMU's stderr. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private QemuPeer() {}

    /** Empty when a QEMU that reads mapped-ram files is on PATH, else a one-line reason it cannot run. */
    static Optional<String> unavailable() {
        try {
            String version = version();
            return Integer.parseInt(version.substring(0, version.indexOf('.'))) >= MIN_MAJOR ? Optional.empty()
                    : Optional.of(QEMU + " " + version + " is older than " + MIN_MAJOR + ": it cannot read mapped-ram files");
        } catch (QemuException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The version {@code qemu-system-x86_64 --version} reports, such as "10.0.2". */
    static String version() {
        Process process;
        try {
            process = new ProcessBuilder(QEMU, "--version").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new QemuException(QEMU + " is not on PATH");
        }
        try {
            // --version prints far less than a pipe holds, so waiting before reading cannot deadlock.
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new QemuException(QEMU + " --version did not finish within " + TIMEOUT.toSeconds() + " s");
            }
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            Matcher m = VERSION.matcher(out);
            if (!m.find()) {
                throw new QemuException(QEMU + " --version printed no version: " + out.lines().findFirst().orElse(""));
            }
            return m.group(1);
        } catch (IOException e) {
            throw new QemuException(QEMU + " --version could not be read: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while asking " + QEMU + " for its version");
        } finally {
            process.destroyForcibly();
        }
    }

    /**
     * Writes, in {@code dir}, a mapped-ram file of a stopped guest of {@code memoryBytes} RAM (whole MiB)
     * whose only non-zero content is the raw file {@code data}, placed at {@link #DATA_ADDRESS}.
     *
     * @throws IOException when {@code data} cannot be read or {@code dir} written
     * @throws QemuException when QEMU fails, says no or does not answer in time
     */
    static Path makeFile(Path dir, long memoryBytes, Path data) throws IOException {
        if (DATA_ADDRESS + Files.size(data) > Math.min(memoryBytes, LOW_RAM_END)) {
            throw new IllegalArgumentException(data + " at 0x200000 does not fit the low RAM of a " + memoryBytes + " byte guest");
        }
        Path file = dir.toAbsolutePath().normalize().resolve(data.getFileName() + "." + (memoryBytes >> 20) + "M.mapped-ram");
        // QEMU pwrites pages at fixed offsets and skips zero pages: an old file's pages would survive.
        Files.deleteIfExists(file);
        try (Qemu qemu = new Qemu(microvm(memoryBytes), "-device", "loader,file=" + option(data.toAbsolutePath())
                + ",addr=" + DATA_ADDRESS + ",force-raw=on")) {
            qemu.enableMappedRam();
            qemu.execute("migrate", JSON.createObjectNode().put("uri", uri(file)));
            qemu.awaitMigrationCompleted();
            qemu.execute("quit", null);
            if (!qemu.process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw qemu.failure("QEMU did not exit within " + TIMEOUT.toSeconds() + " s of quit");
            }
            return file;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while QEMU wrote " + file);
        }
    }

    /**
     * Loads {@code file} into a fresh stopped QEMU and returns the time from sending
     * {@code migrate-incoming} to the MIGRATION event "completed"; QEMU's start-up is not in it.
     * {@code memoryBytes} must be what the file was made with: QEMU 10.0 does not check it for mapped-ram.
     *
     * @throws QemuException when QEMU fails, says no or does not answer in time
     */
    static Duration timeLoad(Path file, long memoryBytes) throws IOException {
        return timeLoad(file, 0, microvm(memoryBytes));
    }

    /**
     * Loads the stream at byte {@code offset} of {@code file} into a fresh stopped QEMU started with
     * {@code machine} (-M, -m and the devices the file's RAM blocks need), timed as {@link #timeLoad(Path, long)}.
     */
    static Duration timeLoad(Path file, long offset, List<String> machine) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString());
        }
        List<String> args = new ArrayList<>(machine);
        args.addAll(List.of("-incoming", "defer"));
        try (Qemu qemu = new Qemu(args)) {
            qemu.enableMappedRam();
            ObjectNode arguments = JSON.createObjectNode().put("uri", uri(file.toAbsolutePath())
                    + (offset == 0 ? "" : ",offset=" + offset));
            long start = System.nanoTime();
            qemu.execute("migrate-incoming", arguments);
            qemu.awaitMigrationCompleted();
            return Duration.ofNanos(System.nanoTime() - start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while QEMU loaded " + file);
        }
    }

    /** A microvm of {@code memoryBytes} RAM: the bench's own files. */
    static List<String> microvm(long memoryBytes) {
        if (memoryBytes <= 0 || memoryBytes % (1 << 20) != 0) {
            throw new IllegalArgumentException("QEMU takes whole MiB of RAM, not " + memoryBytes + " bytes");
        }
        return List.of("-M", "microvm", "-m", (memoryBytes >> 20) + "M");
    }

    /** A path inside a QEMU option value, where a comma is written twice. */
    static String option(Path path) {
        return path.toString().replace(",", ",,");
    }

    /** A {@code file:} migration URI; QEMU would read a comma there as the start of {@code ,offset=}. */
    private static String uri(Path file) {
        if (file.toString().contains(",")) {
            throw new IllegalArgumentException("QEMU cannot migrate to a path with a comma: " + file);
        }
        return "file:" + file;
    }

    /**
     * QEMU failed, timed out or answered a QMP error; the message carries QEMU's own words. Unchecked: a
     * benchmark can only report it and go on, unlike a host I/O error, which stays an IOException.
     */
    static final class QemuException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        QemuException(String message) {
            super(message);
        }
    }

    /** One stopped microvm QEMU and its QMP connection; {@link #close} ends the process in every case. */
    private static final class Qemu implements AutoCloseable {
        private final Path tmp = Files.createTempDirectory("thaw-qemu-");
        private final Path socket = tmp.resolve("qmp");
        private final Path stderr = tmp.resolve("stderr");
        /** QMP messages in arrival order, then a String saying why the stream ended. */
        private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        /** Events that arrived while a command waited for its reply. */
        private final ArrayDeque<JsonNode> events = new ArrayDeque<>();
        private Process process;
        private SocketChannel qmp;

        Qemu(List<String> machine, String... extra) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of(QEMU, "-accel", "tcg", "-S", "-nodefaults", "-nographic",
                    "-qmp", "unix:" + option(socket) + ",server=on,wait=off"));
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
            throw failure("QMP did not listen within " + TIMEOUT.toSeconds() + " s");
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
            ObjectNode arguments = JSON.createObjectNode();
            arguments.putArray("capabilities").add(JSON.createObjectNode().put("capability", "mapped-ram").put("state", true))
                    .add(JSON.createObjectNode().put("capability", "events").put("state", true));
            execute("migrate-set-capabilities", arguments);
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
            throw failure(message == null ? "no answer on QMP within " + TIMEOUT.toSeconds() + " s" : (String) message);
        }

        private static long deadline() {
            return System.nanoTime() + TIMEOUT.toNanos();
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
                        process.destroyForcibly().waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    process.destroyForcibly(); // never leave a QEMU behind, even when asked to hurry
                    Thread.currentThread().interrupt();
                }
            }
            try {
                for (Path p : List.of(socket, stderr, tmp)) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                LOG.debug("removing {}: {}", tmp, e.toString());
            }
        }
    }
}
