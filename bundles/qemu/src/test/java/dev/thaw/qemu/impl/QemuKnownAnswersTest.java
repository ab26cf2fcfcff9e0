package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.testing.KnownAnswers;
import dev.thaw.testing.RequiresQemu;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The test guest booted by the qemu runtime (TCG here: a CPU implementation of its own, neither KVM nor the
 * emulated runtime's interpreter) computes the same known answers as the other runtimes, from the same image and
 * the same boot parameters page (guest/README.md, "Booting in QEMU").
 */
@RequiresQemu
@Timeout(120)
class QemuKnownAnswersTest {

    static final Duration WAIT = Duration.ofSeconds(30);

    final QemuPlatform platform = new QemuPlatform();

    @AfterEach
    void nothingLeftRunning() {
        platform.close();
        assertEquals(List.of(), QemuPlatform.qemusLeft(), "QEMU processes left behind");
    }

    Vm boot(BootRequest r) {
        Vm vm = platform.vms().boot(r, "qemu");
        assertEquals("thaw-guest 1 vcpus=" + r.vcpus() + " mem=" + (r.memoryBytes() >> 20) + " workload="
                + r.workload().label() + " seed=" + r.seed(), vm.awaitLine("thaw-guest ", 0, WAIT), "what it read of its boot parameters");
        return vm;
    }

    /** The guest exits right after its result; QEMU's end is polled, bounded. */
    static void assertExitsWithZero(Vm vm) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (vm.info().status() == VmStatus.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(VmStatus.EXITED, vm.info().status(), vm.info().toString());
        assertEquals(0, vm.info().exitCode());
    }

    @Test
    void fillGivesTheKnownAnswerOnOneTwoAndFourVcpus() throws Exception {
        for (int vcpus : new int[] {1, 2, 4}) {
            Vm vm = boot(KnownAnswers.fill("fill" + vcpus, vcpus));
            assertEquals(KnownAnswers.FILL, vm.awaitLine("result ", 0, WAIT), vcpus + " vCPUs");
            assertExitsWithZero(vm);
            vm.stop();
        }
    }

    @Test
    void touchGivesTheKnownAnswerInEachOrder() throws Exception {
        for (TouchOrder order : TouchOrder.values()) {
            Vm vm = boot(KnownAnswers.touch("touch-" + order.label(), order));
            assertEquals(KnownAnswers.touch(order), vm.awaitLine("result ", 0, WAIT), order.label());
            assertExitsWithZero(vm);
            vm.stop();
        }
    }

    /**
     * Invocations arrive on COM1 as on the other runtimes; each answer depends on every one before. With a resident set
     * the init hashes more memory than the invocations read; with a write percent below 100 the invocations write only
     * some of the pages they read.
     */
    @ParameterizedTest(name = "{0}")
    @FieldSource("dev.thaw.testing.KnownAnswers#FUNCTION_CASES")
    void functionGivesTheKnownAnswersForItsInvocations(KnownAnswers.FunctionCase known) {
        List<String> answers = known.answers();
        Vm vm = boot(known.request("function", 2));
        assertEquals(answers.get(0), vm.awaitLine("result ", 0, WAIT));
        assertEquals(answers.get(1), vm.invoke(WAIT).resultLine());
        long before = vm.consoleBytesWritten();
        vm.sendInput("bogus\n");
        assertEquals("error unknown command bogus", vm.awaitLine("error ", before, WAIT));
        assertEquals(answers.get(2), vm.invoke(WAIT).resultLine());
        assertEquals(answers.get(3), vm.invoke(WAIT).resultLine());
        assertEquals(List.of("thaw-guest 1 vcpus=2 mem=256 workload=function seed=42", answers.get(0),
                answers.get(1), "error unknown command bogus", answers.get(2),
                answers.get(3)), vm.consoleText().lines().map(String::strip).filter(l -> !l.isEmpty()).toList(),
                "nothing else on COM1");
    }
}
