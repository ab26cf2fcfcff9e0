package dev.thaw.qemu.impl;

import dev.thaw.api.device.ConsoleOutput;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The guest's COM1: a unix socket Thaw listens on and QEMU's serial chardev connects to as it starts. A reader
 * thread copies what the guest prints into its console as it comes; {@link #drain()} takes in what is already
 * sent, so that a console saved while QEMU is stopped holds every byte the guest wrote before.
 */
final class SerialPort implements AutoCloseable {

    private final Path path;
    private final ServerSocketChannel listener;
    private final ReentrantLock reading = new ReentrantLock();
    private final ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
    private SocketChannel channel;
    private Selector selector;
    private ConsoleOutput console;
    private Thread reader;
    private volatile boolean closed;

    private SerialPort(Path path, ServerSocketChannel listener) {
        this.path = path;
        this.listener = listener;
    }

    /** Listens at {@code path} for QEMU's connection. */
    static SerialPort listen(Path path) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            listener.bind(UnixDomainSocketAddress.of(path));
            listener.configureBlocking(false);
            return new SerialPort(path, listener);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
    }

    Path path() {
        return path;
    }

    /**
     * Takes QEMU's connection, waiting up to {@code timeout} while {@code starting} holds (QEMU still runs), then
     * copies the guest's output into {@code console} on a thread named {@code name}.
     *
     * @throws IOException when QEMU does not connect in time
     */
    void accept(Duration timeout, BooleanSupplier starting, ConsoleOutput console, String name) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Selector waiting = Selector.open()) {
            listener.register(waiting, SelectionKey.OP_ACCEPT);
            while ((channel = listener.accept()) == null) {
                if (!starting.getAsBoolean()) {
                    throw new IOException("QEMU ended before it connected its serial port");
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("QEMU did not connect its serial port within " + timeout.toSeconds() + " s");
                }
                waiting.select(20);
                waiting.selectedKeys().clear();
            }
        }
        channel.configureBlocking(false);
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
        this.console = console;
        reader = Thread.ofPlatform().daemon().name(name).start(this::readUntilClosed);
    }

    private void readUntilClosed() {
        try {
            while (!closed) {
                selector.select();
                selector.selectedKeys().clear();
                if (!drain()) {
                    return; // QEMU closed it: it is ending, and its exit status says why
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            // closed under us by close(): nothing more comes
        }
    }

    /** Copies every byte QEMU has sent so far into the console; false once QEMU has closed its end. */
    boolean drain() throws IOException {
        reading.lock();
        try {
            while (true) {
                buffer.clear();
                int n = channel.read(buffer);
                if (n < 0) {
                    return false;
                }
                if (n == 0) {
                    return true;
                }
                console.write(buffer.array(), 0, n);
            }
        } finally {
            reading.unlock();
        }
    }

    /** Sends {@code bytes} to the guest's COM1, waiting up to {@code timeout} while QEMU takes them in. */
    void send(byte[] bytes, Duration timeout) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(bytes);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (out.hasRemaining()) {
                if (channel.write(out) == 0) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("QEMU took no serial input within " + timeout.toSeconds() + " s");
                    }
                    Thread.onSpinWait();
                    Thread.yield();
                }
            }
        }
    }

    /** Stops reading and closes both sockets; waits for the reader thread. Idempotent. */
    @Override
    public void close() {
        closed = true;
        try {
            if (selector != null) {
                selector.close(); // wakes the reader
            }
            if (channel != null) {
                channel.close();
            }
            listener.close();
        } catch (IOException e) {
            // closing sockets we only read from loses nothing
        }
        if (reader != null) {
            try {
                reader.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
