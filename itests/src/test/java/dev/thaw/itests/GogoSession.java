package dev.thaw.itests;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Predicate;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

/** A Gogo session whose console is in memory: each command's output comes back as a string. */
final class GogoSession implements AutoCloseable {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final CommandSession session;

    GogoSession(CommandProcessor processor) {
        session = processor.createSession(new ByteArrayInputStream(new byte[0]), out, err);
    }

    /**
     * Runs one command line and returns what it printed (stdout and stderr), then the value it returned.
     *
     * @throws Exception what the command threw
     */
    String execute(String commandLine) throws Exception {
        out.reset();
        err.reset();
        Object value;
        try {
            value = session.execute(commandLine);
        } finally {
            session.getConsole().flush();
        }
        // Thaw's commands print; some of Gogo's own (help) return their text, which a console would print.
        String returned = value == null ? "" : value + "\n";
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8) + returned;
    }

    /**
     * Runs {@code commandLine} every 100 ms until its output satisfies {@code done} (for what the platform
     * picks up on its own time, as FileInstall does); fails with the last output after {@code timeout}.
     */
    String executeUntil(String commandLine, Predicate<String> done, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String output = execute(commandLine);
        while (!done.test(output)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(commandLine + " did not show what was awaited within " + timeout + "; last:\n" + output);
            }
            Thread.sleep(100);
            output = execute(commandLine);
        }
        return output;
    }

    /** Stops each VM that exists: a test's cleanup, where some were never made because the test failed first. */
    void stopQuietly(Iterable<String> vms) {
        for (String vm : vms) {
            try {
                execute("thaw:stop " + vm);
            } catch (Exception ignored) {
                // not made: the test failed before it
            }
        }
    }

    @Override
    public void close() {
        session.close();
    }
}
