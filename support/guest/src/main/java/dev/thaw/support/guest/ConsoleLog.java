package dev.thaw.support.guest;

import dev.thaw.api.device.ConsoleOutput;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.VmException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A guest's console output: the newest {@link #RETAINED} bytes, a count of every byte, and the complete
 * lines that start with {@code result } (the guest's machine-readable output), which waiters can await.
 * Bytes map one to one to chars (ISO-8859-1): the guest prints ASCII, and offsets stay byte offsets. Whatever
 * runtime runs the guest, its console is one of these.
 */
public final class ConsoleLog implements ConsoleOutput {

    public static final int RETAINED = 1 << 20;
    /** What the {@code function} workload reads as one invocation request. */
    public static final String INVOKE_REQUEST = "invoke\n";
    static final String RESULT_PREFIX = "result ";

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final StringBuilder text = new StringBuilder();
    private final StringBuilder currentLine = new StringBuilder();
    private final List<String> results = new ArrayList<>();
    /** Result lines printed before the retained ones (they scrolled out before a snapshot). */
    private int resultsBefore;
    private final long createdNanos = System.nanoTime();
    private long written;
    private long firstByteNanos = -1;
    /** Why no more output will come (the VM ended), or null while it may. */
    private String ended;
    /** Tasks waiting for a count of result lines ({@link #whenResults}). */
    private final List<ResultWaiter> waiters = new ArrayList<>();

    private record ResultWaiter(int count, Runnable task) {}

    @Override
    public void write(byte[] data, int offset, int length) {
        String s = new String(data, offset, length, StandardCharsets.ISO_8859_1);
        List<Runnable> due;
        lock.lock();
        try {
            if (firstByteNanos < 0 && length > 0) {
                firstByteNanos = System.nanoTime();
            }
            written += length;
            text.append(s);
            if (text.length() > RETAINED) {
                text.delete(0, text.length() - RETAINED);
            }
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\n') {
                    String line = currentLine.toString().replace("\r", "");
                    if (line.startsWith(RESULT_PREFIX)) {
                        results.add(line);
                    }
                    currentLine.setLength(0);
                    changed.signalAll();
                } else if (currentLine.length() < 4096) {
                    currentLine.append(c);
                }
            }
            due = takeDue();
        } finally {
            lock.unlock();
        }
        due.forEach(Runnable::run);
    }

    /**
     * Runs {@code task} once the log holds {@code count} result lines (history included): at once if it does, else
     * on the thread that writes the line that makes it so, which it must not hold up. Not run if the VM ends first.
     */
    public void whenResults(int count, Runnable task) {
        List<Runnable> due = List.of();
        lock.lock();
        try {
            if (ended == null) {
                waiters.add(new ResultWaiter(count, task));
                due = takeDue();
            }
        } finally {
            lock.unlock();
        }
        due.forEach(Runnable::run);
    }

    /** Takes out the tasks of the waiters whose count is reached; the lock is held. */
    private List<Runnable> takeDue() {
        if (waiters.isEmpty()) {
            return List.of();
        }
        int count = resultsBefore + results.size();
        List<Runnable> due = new ArrayList<>();
        waiters.removeIf(w -> w.count() <= count && due.add(w.task()));
        return due;
    }

    public String text() {
        lock.lock();
        try {
            return text.toString();
        } finally {
            lock.unlock();
        }
    }

    public long bytesWritten() {
        lock.lock();
        try {
            return written;
        } finally {
            lock.unlock();
        }
    }

    /** Time from this log's creation (the boot request) to the first byte, or null before it. */
    public Duration firstOutput() {
        lock.lock();
        try {
            return firstByteNanos < 0 ? null : Duration.ofNanos(firstByteNanos - createdNanos);
        } finally {
            lock.unlock();
        }
    }

    public int resultCount() {
        lock.lock();
        try {
            return resultsBefore + results.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes over the history of a snapshot: its retained text, its byte count and its result line count.
     * Only before any output.
     */
    public void restore(String retained, long bytes, int resultLines) {
        lock.lock();
        try {
            if (written != 0) {
                throw new IllegalStateException("console already has output");
            }
            write(retained.getBytes(StandardCharsets.ISO_8859_1), 0, retained.length());
            written = bytes;
            firstByteNanos = -1; // the restored VM's own first output is what counts
            resultsBefore = Math.max(0, resultLines - results.size());
        } finally {
            lock.unlock();
        }
    }

    /** No more output will come; waiters fail with {@code reason}. */
    public void end(String reason) {
        lock.lock();
        try {
            if (ended == null) {
                ended = reason;
            }
            waiters.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits for result line number {@code index} (0 is the first the guest printed) and returns it. */
    public String awaitResult(int index, Duration timeout, Supplier<String> vmName) {
        return await(() -> index - resultsBefore < results.size() && index >= resultsBefore ? results.get(index - resultsBefore) : null, timeout,
                () -> vmName.get() + ": no result line " + (index + 1));
    }

    /**
     * One invocation of the {@code function} workload on this console: waits for its init result (line 0: the
     * guest drains its UART while it initializes, so a request sent before it would be lost), runs
     * {@code sendRequest}, and waits for result line {@code index}.
     */
    public Invocation invoke(int index, Runnable sendRequest, Duration timeout, Supplier<String> vmName) {
        awaitResult(0, timeout, vmName);
        long start = System.nanoTime();
        sendRequest.run(); // sends INVOKE_REQUEST
        String line = awaitResult(index, timeout, vmName);
        return new Invocation(index, line, Duration.ofNanos(System.nanoTime() - start));
    }

    /** Waits until a complete line starting with {@code prefix} begins at or after byte {@code fromByte}. */
    public String awaitLine(String prefix, long fromByte, Duration timeout, Supplier<String> vmName) {
        return await(() -> findLine(prefix, fromByte), timeout, () -> vmName.get() + ": no line starting '" + prefix.strip() + "'");
    }

    private String findLine(String prefix, long fromByte) {
        long base = written - text.length(); // byte offset of text[0]
        int from = (int) Math.max(0, fromByte - base);
        int completeEnd = text.lastIndexOf("\n") + 1;
        int at = from;
        while (at < completeEnd) {
            boolean lineStart = at == 0 ? base == 0 || fromByte <= base : text.charAt(at - 1) == '\n';
            int end = text.indexOf("\n", at);
            if (lineStart && at + prefix.length() <= end && text.substring(at, at + prefix.length()).equals(prefix)) {
                return text.substring(at, end).replace("\r", "");
            }
            at = end + 1;
        }
        return null;
    }

    private String await(Supplier<String> probe, Duration timeout, Supplier<String> what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                String found = probe.get();
                if (found != null) {
                    return found;
                }
                if (ended != null) {
                    throw new VmException(what.get() + ": " + ended);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new VmException(what.get() + " within " + timeout.toSeconds() + " s");
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException(what.get() + ": interrupted");
        } finally {
            lock.unlock();
        }
    }
}
