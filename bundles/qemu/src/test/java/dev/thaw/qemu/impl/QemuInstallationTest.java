package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.vm.RuntimeInfo;
import dev.thaw.api.vm.VmException;
import dev.thaw.testing.KnownAnswers;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which QEMU the runtime accepts, read from what {@code -version} prints: one older than mapped-ram is refused with
 * its version named, and a program that is no QEMU at all, or none, makes the runtime unavailable with the reason
 * in {@code thaw:runtimes} and in the refusal of a boot; and which QEMUs take zero pages only on request.
 */
class QemuInstallationTest {

    static final Path BINARY = Path.of("/usr/bin/qemu-system-x86_64");

    @Test
    void aQemuBeforeMappedRamIsRefusedWithItsVersionNamed() {
        QemuInstallation old = QemuInstallation.of(BINARY, "QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1.4)\n"
                + "Copyright (c) 2003-2023 Fabrice Bellard and the QEMU Project developers\n");
        assertEquals("8.2.2", old.version());
        String why = old.problem().orElseThrow();
        assertTrue(why.contains("QEMU 8.2.2") && why.contains(BINARY.toString()) && why.contains("9.0"), why);
        assertFalse(why.contains("\n"), why);
    }

    @Test
    void qemu9And10AreAccepted() {
        assertEquals(Optional.empty(), QemuInstallation.of(BINARY, "QEMU emulator version 9.0.0\n").problem());
        QemuInstallation ten = QemuInstallation.of(BINARY, "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)\n");
        assertEquals("10.0.2", ten.version());
        assertEquals(Optional.empty(), ten.problem());
    }

    @Test
    void aProgramThatIsNoQemuMakesTheRuntimeUnavailableWithItsReason() {
        assertUnavailable("/bin/true", "/bin/true -version printed no QEMU version: (nothing)");
    }

    @Test
    void aProgramNotOnThePathMakesTheRuntimeUnavailableWithItsReason() {
        assertUnavailable("no-such-qemu-system-x86_64", "no-such-qemu-system-x86_64 is not on the PATH");
    }

    private static void assertUnavailable(String binary, String reason) {
        try (QemuPlatform platform = new QemuPlatform(Map.of("binary", binary))) {
            RuntimeInfo qemu = platform.vms().runtimes().stream().filter(r -> r.name().equals("qemu")).findFirst().orElseThrow();
            assertFalse(qemu.available(), qemu.toString());
            assertTrue(qemu.unavailableReason().startsWith(reason), qemu.unavailableReason());
            VmException e = assertThrows(VmException.class, () -> platform.vms().boot(KnownAnswers.function("never", 1), "qemu"));
            assertTrue(e.getMessage().contains(reason) && !e.getMessage().contains("\n"), e.getMessage());
            assertEquals(List.of(), platform.vms().list());
        }
    }

    /** Which QEMUs a lazy restore sends zero pages to only on request: those whose listen thread ends postcopy (10.2). */
    @ParameterizedTest
    @CsvSource({"9.0.0, true", "9.2.4, true", "10.0.2, true", "10.1, true", "10.2.0, false", "11.0.0, false", "'', false"})
    void zeroPagesGoOnRequestOnlyUpToQemu10dot1(String version, boolean onRequest) {
        QemuInstallation q = new QemuInstallation(BINARY, version, Optional.empty());
        assertEquals(onRequest, q.takesZeroPagesOnRequest(), version);
    }
}
