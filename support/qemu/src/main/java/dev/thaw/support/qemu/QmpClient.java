package dev.thaw.support.qemu;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A client of QEMU's machine protocol (QMP) on a unix socket: JSON objects, one per line. Connecting reads
 * QEMU's greeting and sends {@code qmp_capabilities}; {@link #execute} sends a command and returns its
 * {@code return} value; events that come meanwhile are kept for {@link #nextEvent}. Every wait is bounded.
 * Not thread-safe: one caller at a time.
 */
public final class QmpClient implements AutoCloseable {

    /** How long a command may take to answer. */
    public static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_LINE = 16 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer in = ByteBuffer.allocate(64 << 10);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final ArrayDeque<JsonNode> events = new ArrayDeque<>();

    private QmpClient(Path path, SocketChannel channel, Selector selector) {
        this.path = path;
        this.channel = channel;
        this.selector = selector;
    }

    /**
     * Connects to the monitor at {@code path}, waiting up to {@code timeout} for QEMU to create it, and enters
     * command mode.
     *
     * @throws QmpException naming the socket and the problem
     */
    public static QmpClient connect(Path path, Duration timeout) {
        return connect(path, timeout, () -> true);
    }

    /**
     * As {@link #connect(Path, Duration)}, giving up at once when {@code starting} turns false (the QEMU that
     * would create the socket has ended), rather than at the timeout.
     *
     * @throws QmpException naming the socket and the problem
     */
    public static QmpClient connect(Path path, Duration timeout, BooleanSupplier starting) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel channel = null;
        while (channel == null) {
            try {
                channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
            } catch (IOException e) {
                if (!starting.getAsBoolean()) {
                    throw new QmpException("QMP at " + path + ": QEMU ended before its monitor listened", e);
                }
                if (System.nanoTime() > deadline) {
                    throw new QmpException("QMP at " + path + ": cannot connect within " + timeout.toMillis() + " ms: "
                            + e.getMessage(), e);
                }
                try {
                    Thread.sleep(10); // QEMU creates the socket as it starts: nothing to be told of
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new QmpException("QMP at " + path + ": interrupted while connecting");
                }
            }
        }
        QmpClient client = null;
        try {
            channel.configureBlocking(false);
            Selector selector = Selector.open();
            client = new QmpClient(path, channel, selector);
            channel.register(selector, SelectionKey.OP_READ);
            JsonNode greeting = client.read(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            if (!greeting.has("QMP")) {
                throw new QmpException("QMP at " + path + ": not a QMP greeting: " + greeting);
            }
            client.execute("qmp_capabilities");
            return client;
        } catch (IOException | RuntimeException e) {
            if (client != null) {
                client.close();
            } else {
                closeQuietly(channel);
            }
            throw e instanceof QmpException q ? q : new QmpException("QMP at " + path + ": " + e.getMessage(), e);
        }
    }

    public JsonNode execute(String command) {
        return execute(command, Map.of());
    }

    /**
     * Runs {@code command} with {@code arguments} (any values Jackson writes) and returns its {@code return}
     * value.
     *
     * @throws QmpException with QEMU's error description, or when QEMU does not answer in time
     */
    public JsonNode execute(String command, Map<String, ?> arguments) {
        ObjectNode message = JSON.createObjectNode().put("execute", command);
        if (!arguments.isEmpty()) {
            message.set("arguments", JSON.valueToTree(arguments));
        }
        try {
            ByteBuffer out = ByteBuffer.wrap((JSON.writeValueAsString(message) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
            while (out.hasRemaining()) {
                if (channel.write(out) == 0) {
                    waitFor(SelectionKey.OP_WRITE, deadline, command);
                }
            }
            while (true) {
                JsonNode reply = read(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                if (reply.has("event")) {
                    events.add(reply);
                } else if (reply.has("error")) {
                    JsonNode error = reply.get("error");
                    throw new QmpException("QMP at " + path + ": " + command + " failed: " + error.path("desc").asText(error.toString()));
                } else if (reply.has("return")) {
                    return reply.get("return");
                }
            }
        } catch (IOException e) {
            throw new QmpException("QMP at " + path + ": " + command + ": " + e.getMessage(), e);
        }
    }

    /** The next event (one kept from before, or one that comes within {@code timeout}); null if none comes. */
    public JsonNode nextEvent(Duration timeout) {
        if (!events.isEmpty()) {
            return events.poll();
        }
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                JsonNode m = readWithin(deadline);
                if (m == null) {
                    return null;
                }
                if (m.has("event")) {
                    return m;
                }
            }
            return null;
        } catch (IOException e) {
            throw new QmpException("QMP at " + path + ": reading events: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException ignored) {
            // nothing to lose: the monitor only ever read from us
        }
        closeQuietly(channel);
    }

    private JsonNode read(long timeoutMillis) throws IOException {
        JsonNode m = readWithin(System.nanoTime() + timeoutMillis * 1_000_000);
        if (m == null) {
            throw new QmpException("QMP at " + path + ": no answer within " + timeoutMillis + " ms");
        }
        return m;
    }

    /** The next JSON line, or null at {@code deadline}. */
    private JsonNode readWithin(long deadline) throws IOException {
        while (true) {
            in.flip();
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') {
                    in.compact();
                    byte[] text = line.toByteArray();
                    line.reset();
                    try {
                        return JSON.readTree(text);
                    } catch (JsonProcessingException e) {
                        throw new QmpException("QMP at " + path + ": not JSON: " + e.getOriginalMessage());
                    }
                }
                line.write(b);
                if (line.size() > MAX_LINE) {
                    throw new QmpException("QMP at " + path + ": a message longer than " + MAX_LINE + " bytes");
                }
            }
            in.clear();
            int n = channel.read(in);
            if (n < 0) {
                throw new QmpException("QMP at " + path + ": QEMU closed the monitor (it exited?)");
            }
            if (n == 0 && !waitFor(SelectionKey.OP_READ, deadline, null)) {
                in.flip().compact();
                return null;
            }
        }
    }

    /** Waits for the channel to be ready for {@code op}; false at the deadline (or an exception when {@code command} waits). */
    private boolean waitFor(int op, long deadline, String command) throws IOException {
        SelectionKey key = channel.keyFor(selector);
        key.interestOps(op);
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0 || selector.select(left) == 0) {
            selector.selectedKeys().clear();
            if (command != null) {
                throw new QmpException("QMP at " + path + ": " + command + ": QEMU took no input within the timeout");
            }
            return false;
        }
        selector.selectedKeys().clear();
        return true;
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a socket we only talked on loses nothing
        }
    }
}
