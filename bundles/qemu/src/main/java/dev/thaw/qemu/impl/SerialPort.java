package dev.thaw.qemu.impl;

import dev.thaw.api.device.ConsoleOutput;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The guest's COM1: two named pipes QEMU's {@code pipe} chardev opens, {@code com1.in} for the guest's input and
 * {@code com1.out} for its output. A reader thread copies what the guest prints into its console as it comes;
 * {@link #drain()} takes in what is already written, so that a console saved while QEMU is stopped holds every byte
 * the guest wrote before.
 *
 * <p>Pipes, not a socket, because input QEMU has not read yet must survive a snapshot: QEMU reads COM1 only as its
 * UART has room, and a byte still in a socket's queue is in neither QEMU's saved state nor anywhere Thaw can read it
 * back. A pipe's unread bytes can be taken back by another reader ({@link #holdInput()}), kept with the snapshot and
 * sent again to the restored guest. QEMU opens both pipes read-write, and so does Thaw: neither side ever sees an end
 * of file, and neither open waits for the other; QEMU's end is told by its process.
 */
final class SerialPort implements AutoCloseable {

    /** What a pipe holds on Linux before a writer waits (the default pipe size). */
    private static final int CHUNK = 64 << 10;

    private final Path path;
    private final int input;
    private final int output;
    /** Wakes the reader thread when the port closes. */
    private final int wake;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment readBuffer;
    private final byte[] bytes = new byte[CHUNK];
    /** Held while reading {@code output}. */
    private final ReentrantLock reading = new ReentrantLock();
    /** Held while writing {@code input}, and by a snapshot from the take-back of unread input until it is resent. */
    private final ReentrantLock sending = new ReentrantLock();
    private ConsoleOutput console;
    private Thread reader;
    private volatile boolean closed;

    private SerialPort(Path path, int input, int output, int wake) {
        this.path = path;
        this.input = input;
        this.output = output;
        this.wake = wake;
        this.readBuffer = arena.allocate(CHUNK);
    }

    /** Makes the pipes {@code PATH.in} and {@code PATH.out} (QEMU's {@code -chardev pipe,path=PATH}) and opens them. */
    static SerialPort create(Path path) throws IOException {
        int in = -1;
        int out = -1;
        try {
            Libc.mkfifo(path + ".in", 0600);
            Libc.mkfifo(path + ".out", 0600);
            in = Libc.open(path + ".in", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
            out = Libc.open(path + ".out", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
            return new SerialPort(path, in, out, Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK));
        } catch (ErrnoException e) {
            closeQuietly(in);
            closeQuietly(out);
            throw new IOException("COM1 pipes at " + path + ": " + e.getMessage(), e);
        }
    }

    /** The path QEMU's {@code pipe} chardev takes: the pipes are this plus {@code .in} and {@code .out}. */
    Path path() {
        return path;
    }

    /** Copies the guest's output into {@code console} from now on, on a thread named {@code name}. */
    void start(ConsoleOutput console, String name) {
        this.console = console;
        reader = Thread.ofPlatform().daemon().name(name).start(this::readUntilClosed);
    }

    private void readUntilClosed() {
        try {
            while (!closed) {
                int[] ready = Libc.poll(new int[] {output, wake}, new int[] {Libc.POLLIN, Libc.POLLIN}, -1);
                if (ready[1] != 0 || closed) {
                    return;
                }
                drain();
            }
        } catch (ErrnoException e) {
            // only a closed port fails a poll or a read of its own pipe
        }
    }

    /** Copies every byte QEMU has written so far into the console. */
    void drain() {
        reading.lock();
        try {
            while (!closed) {
                long n = readSome(output, readBuffer);
                if (n <= 0) {
                    return;
                }
                MemorySegment.copy(readBuffer, ValueLayout.JAVA_BYTE, 0, bytes, 0, (int) n);
                console.write(bytes, 0, (int) n);
            }
        } finally {
            reading.unlock();
        }
    }

    /** Sends {@code data} to the guest's COM1, waiting up to {@code timeout} while QEMU takes them in. */
    void send(byte[] data, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!sending.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new IOException("COM1 took no input within " + timeout.toSeconds() + " s (a snapshot held it)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting to send to COM1");
        }
        try {
            write(data, deadline, timeout);
        } finally {
            sending.unlock();
        }
    }

    private void write(byte[] data, long deadline, Duration timeout) throws IOException {
        if (closed) {
            throw new IOException("COM1 is closed");
        }
        try (Arena once = Arena.ofConfined()) {
            MemorySegment rest = once.allocateFrom(ValueLayout.JAVA_BYTE, data);
            while (rest.byteSize() > 0) {
                long n;
                try {
                    n = Libc.write(input, rest);
                } catch (ErrnoException e) {
                    if (!e.wouldBlock() && !e.interrupted()) {
                        throw new IOException("COM1: " + e.getMessage(), e);
                    }
                    n = 0;
                }
                rest = rest.asSlice(n);
                if (rest.byteSize() > 0) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        throw new IOException("QEMU took no serial input within " + timeout.toSeconds() + " s");
                    }
                    Libc.poll(input, Libc.POLLOUT, (int) Math.min(left, 100));
                }
            }
        }
    }

    /**
     * Holds the guest's input for a snapshot of the stopped QEMU: no one sends until {@link #releaseInput}, and the
     * bytes QEMU has not read are taken back out of the pipe and returned (QEMU has read the rest into its UART,
     * whose state it saves). Each byte is read once, by QEMU or here.
     */
    byte[] holdInput() {
        sending.lock();
        ByteArrayOutputStream unread = new ByteArrayOutputStream();
        try (Arena once = Arena.ofConfined()) {
            MemorySegment buffer = once.allocate(CHUNK);
            long n;
            while (!closed && (n = readSome(input, buffer)) > 0) {
                unread.write(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), 0, (int) n);
            }
        } catch (RuntimeException | Error e) {
            sending.unlock();
            throw e;
        }
        return unread.toByteArray();
    }

    /**
     * Ends {@link #holdInput()}: first puts {@code resend} (what it took back, where the guest goes on) back into the
     * pipe, ahead of any later input.
     */
    void releaseInput(byte[] resend) throws IOException {
        try {
            if (resend.length > 0) {
                write(resend, System.nanoTime() + QemuVm.INPUT_TIMEOUT.toNanos(), QemuVm.INPUT_TIMEOUT);
            }
        } finally {
            sending.unlock();
        }
    }

    /** A read of what the pipe holds now: 0 when it is empty. */
    private static long readSome(int fd, MemorySegment buffer) {
        while (true) {
            try {
                return Libc.read(fd, buffer);
            } catch (ErrnoException e) {
                if (e.wouldBlock()) {
                    return 0;
                }
                if (!e.interrupted()) {
                    throw e;
                }
            }
        }
    }

    /** Stops reading and closes the pipes; waits for the reader thread. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena once = Arena.ofConfined()) {
            Libc.write(wake, once.allocateFrom(ValueLayout.JAVA_LONG, 1L));
        }
        if (reader != null) {
            try {
                reader.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // a sender holds the lock at most its timeout; after that no one writes to these fds again
        sending.lock();
        reading.lock();
        try {
            closeQuietly(input);
            closeQuietly(output);
            closeQuietly(wake);
            arena.close();
        } finally {
            reading.unlock();
            sending.unlock();
        }
    }

    private static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                Libc.close(fd);
            } catch (ErrnoException e) {
                // nothing was written through it that could be lost
            }
        }
    }
}
