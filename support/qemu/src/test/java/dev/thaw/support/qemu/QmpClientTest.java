package dev.thaw.support.qemu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class QmpClientTest {

    @TempDir
    Path dir;

    /** A QEMU that exits while starting never creates its monitor: waiting out the timeout would only delay the failure. */
    @Test
    @Timeout(5)
    void connectingGivesUpAsSoonAsTheQemuThatWouldListenHasEnded() {
        QmpException e = assertThrows(QmpException.class,
                () -> QmpClient.connect(dir.resolve("qmp"), Duration.ofSeconds(60), () -> false));
        assertTrue(e.getMessage().contains("QEMU ended before its monitor listened"), e.getMessage());
    }

    @Test
    void connectingToASocketNobodyCreatesFailsAtTheTimeoutNamingIt() {
        QmpException e = assertThrows(QmpException.class, () -> QmpClient.connect(dir.resolve("qmp"), Duration.ofMillis(50)));
        assertTrue(e.getMessage().contains(dir.resolve("qmp").toString()) && e.getMessage().contains("cannot connect within"),
                e.getMessage());
    }
}
