package dev.thaw.qemu.postcopy.impl;

import dev.thaw.support.qemu.QmpClient;
import dev.thaw.support.qemu.QmpException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QMP with QEMU 10: commands and their values, QEMU's errors in one line, events, and a QEMU that is gone. */
class QmpClientTest {

    @TempDir
    Path dir;

    @BeforeEach
    void qemu() {
        Qemu.assumeInstalled();
    }

    @Test
    void commandsReturnTheirValuesAndEventsAreKeptUntilAskedFor() throws Exception {
        try (Qemu qemu = Qemu.start(dir, "vm", "-S")) {
            QmpClient qmp = qemu.qmp();
            assertEquals(10, qmp.execute("query-version").path("qemu").path("major").asInt());
            assertEquals("prelaunch", qmp.execute("query-status").path("status").asText());
            assertNull(qmp.nextEvent(Duration.ofMillis(20)), "no event yet");
            qmp.execute("cont");
            JsonNode resume = qmp.nextEvent(Duration.ofSeconds(5));
            assertEquals("RESUME", resume.path("event").asText(), resume.toString());
            qmp.execute("stop");
            assertEquals("paused", qmp.execute("query-status").path("status").asText());
            assertEquals("STOP", qmp.nextEvent(Duration.ofSeconds(5)).path("event").asText(), "kept while query-status ran");
        }
    }

    @Test
    void qemusErrorsAndItsEndAreOneLineNamingTheMonitor() throws Exception {
        Path monitor = dir.resolve("vm.qmp");
        try (Qemu qemu = Qemu.start(dir, "vm", "-S")) {
            QmpException e = assertThrows(QmpException.class, () -> qemu.qmp().execute("no-such-command"));
            assertEquals("QMP at " + monitor + ": no-such-command failed: The command no-such-command has not been found",
                    e.getMessage());
            e = assertThrows(QmpException.class, () -> qemu.qmp().execute("migrate-incoming", Map.of("uri", "bogus:x")));
            assertTrue(e.getMessage().startsWith("QMP at " + monitor + ": migrate-incoming failed: "), e.getMessage());
            qemu.kill();
            e = assertThrows(QmpException.class, () -> qemu.qmp().execute("query-status"));
            assertTrue(e.getMessage().startsWith("QMP at " + monitor + ": "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
        QmpException e = assertThrows(QmpException.class, () -> QmpClient.connect(dir.resolve("none.qmp"), Duration.ofMillis(50)));
        assertTrue(e.getMessage().startsWith("QMP at " + dir.resolve("none.qmp") + ": cannot connect within 50 ms: "),
                e.getMessage());
    }
}
