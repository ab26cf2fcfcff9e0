package dev.thaw.itests;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
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
     * Runs one command line and returns what it printed (stdout and stderr).
     *
     * @throws Exception what the command threw
     */
    String execute(String commandLine) throws Exception {
        out.reset();
        err.reset();
        try {
            session.execute(commandLine);
        } finally {
            session.getConsole().flush();
        }
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        session.close();
    }
}
