package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which QEMUs a lazy restore sends zero pages to only on request: those whose listen thread ends postcopy (10.2). */
class QemuInstallationTest {

    @ParameterizedTest
    @CsvSource({"9.0.0, true", "9.2.4, true", "10.0.2, true", "10.1, true", "10.2.0, false", "11.0.0, false", "'', false"})
    void zeroPagesGoOnRequestOnlyUpToQemu10dot1(String version, boolean onRequest) {
        QemuInstallation q = new QemuInstallation(Path.of("/usr/bin/qemu-system-x86_64"), version, Optional.empty());
        assertEquals(onRequest, q.takesZeroPagesOnRequest(), version);
    }
}
