package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.testing.KnownAnswers;
import dev.thaw.testing.QemuCondition;
import dev.thaw.testing.RequiresQemu;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The test guest booted by QEMU (TCG: a CPU implementation of its own, neither KVM nor the emulated runtime's
 * interpreter) computes the same known answers as the other runtimes, from the same image and the same boot
 * parameters page. Every QEMU started here is killed and reaped before the test ends.
 */
@RequiresQemu
@Timeout(60)
class QemuGuestTest {

    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    final List<QemuGuest> started = new ArrayList<>();

    QemuGuest boot(BootRequest request) throws Exception {
        Path runDir = Files.createDirectory(dir.resolve(request.name()));
        QemuGuest guest = QemuGuest.start(QemuCondition.qemu().orElseThrow(), runDir, request);
        started.add(guest);
        return guest;
    }

    @AfterEach
    void noQemuLeft() throws Exception {
        for (QemuGuest guest : started) {
            guest.close();
        }
        for (QemuGuest guest : started) {
            Optional<ProcessHandle> left = ProcessHandle.of(guest.pid());
            assertFalse(left.isPresent() && left.get().isAlive(), "QEMU " + guest.pid() + " still running");
        }
        assertEquals(List.of(), ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                .filter(p -> p.contains(QemuCondition.QEMU)).toList(), "QEMU processes left behind");
    }

    /** The first line says what the guest read from its boot parameters page; the result comes next. */
    static void assertBanner(QemuGuest guest, BootRequest r) throws InterruptedException {
        assertEquals("thaw-guest 1 vcpus=" + r.vcpus() + " mem=" + (r.memoryBytes() >> 20) + " workload="
                + r.workload().label() + " seed=" + r.seed(), guest.awaitLine("thaw-guest ", WAIT));
    }

    @Test
    void fillGivesTheKnownAnswerOnOneTwoAndFourVcpus() throws Exception {
        for (int vcpus : new int[] {1, 2, 4}) {
            BootRequest r = KnownAnswers.fill("fill" + vcpus, vcpus);
            QemuGuest guest = boot(r);
            assertBanner(guest, r);
            assertEquals(KnownAnswers.FILL, guest.awaitLine("result ", WAIT), vcpus + " vCPUs");
            assertEquals(0, guest.awaitGuestExit(WAIT));
        }
    }

    @Test
    void touchGivesTheKnownAnswerInEachOrder() throws Exception {
        for (TouchOrder order : TouchOrder.values()) {
            BootRequest r = KnownAnswers.touch("touch-" + order.label(), order);
            QemuGuest guest = boot(r);
            assertBanner(guest, r);
            assertEquals(KnownAnswers.touch(order), guest.awaitLine("result ", WAIT), order.label());
            assertEquals(0, guest.awaitGuestExit(WAIT));
        }
    }

    /** Invocations arrive on COM1 as on the other runtimes; each answer depends on every one before. */
    @Test
    void functionGivesTheKnownAnswersForItsInvocations() throws Exception {
        BootRequest r = KnownAnswers.function("function", 2);
        QemuGuest guest = boot(r);
        assertBanner(guest, r);
        assertEquals(KnownAnswers.FUNCTION.get(0), guest.awaitLine("result ", WAIT));
        guest.send("invoke");
        assertEquals(KnownAnswers.FUNCTION.get(1), guest.awaitLine("result ", WAIT));
        guest.send("i");
        assertEquals(KnownAnswers.FUNCTION.get(2), guest.awaitLine("result ", WAIT));
        guest.send("bogus");
        assertEquals("error unknown command bogus", guest.awaitLine("error ", WAIT));
        guest.send("invoke");
        assertEquals(KnownAnswers.FUNCTION.get(3), guest.awaitLine("result ", WAIT));
        assertEquals(List.of("thaw-guest 1 vcpus=2 mem=256 workload=function seed=42", KnownAnswers.FUNCTION.get(0),
                KnownAnswers.FUNCTION.get(1), KnownAnswers.FUNCTION.get(2), "error unknown command bogus",
                KnownAnswers.FUNCTION.get(3)), guest.lines(), "nothing else on COM1");
    }
}
