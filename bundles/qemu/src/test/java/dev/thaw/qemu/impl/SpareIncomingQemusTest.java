package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.Vm;
import dev.thaw.testing.KnownAnswers;
import dev.thaw.testing.RequiresQemu;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spare incoming QEMUs a runtime configured with {@code spareMachines} keeps: a restore of a machine leaves one
 * ready, the next restore of that machine takes it, eager and lazy alike, and the guest continues in it exactly;
 * deactivating the runtime ends it.
 */
@RequiresQemu
@Timeout(180)
class SpareIncomingQemusTest {

    @TempDir
    Path dir;

    final QemuPlatform platform = new QemuPlatform(Map.of("spareMachines", 1));

    @AfterEach
    void nothingLeftRunning() {
        platform.close();
        assertEquals(List.of(), QemuPlatform.qemusLeft(), "QEMU processes left behind");
    }

    @Test
    void eachRestoreTakesTheSpareTheOneBeforeLeftAndTheGuestContinuesInIt() {
        Path file = dir.resolve("function.mr");
        Vm vm = platform.vms().boot(KnownAnswers.function("saved", 1), "qemu");
        assertEquals(KnownAnswers.FUNCTION.get(1), vm.invoke(QemuRuntimeTest.WAIT).resultLine());
        vm.snapshot(file, false, Progress.NONE);
        assertEquals(List.of(), QemuPlatform.qemusLeft(), "no spare before the first restore of the machine");

        List<Long> spares = List.of(); // oldest first
        int invocation = 2;
        for (String how : List.of("eager", "sequential", "eager", "prefetch-window")) {
            boolean eager = how.equals("eager");
            QemuVm restored = (QemuVm) platform.vms().restore(new RestoreOptions(file, "back-" + invocation, eager,
                    eager ? null : how, 0, false), Progress.NONE);
            long pid = restored.process().pid();
            if (!spares.isEmpty()) {
                assertEquals(spares.getFirst(), pid, how + " restore: the oldest spare QEMU is the one restored into");
            }
            List<Long> left = spares.isEmpty() ? List.of() : spares.subList(1, spares.size());
            assertEquals(Set.copyOf(left), others(pid), how + ": no replacement takes CPU from the guest while it settles");
            assertEquals(KnownAnswers.FUNCTION.get(2), restored.invoke(QemuRuntimeTest.WAIT).resultLine(),
                    how + ": the guest's output reaches its console through the spare's serial port");
            if (!eager) {
                restored.awaitLoaded(QemuRuntimeTest.WAIT, Progress.NONE);
            }
            assertEquals(SpareIncomingQemus.DEPTH, platform.runtime().spares().awaitStarted(), how
                    + ": spares started once the guest settled (its first invocation done, its memory all in)");
            Set<Long> now = others(pid);
            assertEquals(SpareIncomingQemus.DEPTH, now.size(), "the spares beside the VM's QEMU: " + QemuPlatform.qemusLeft());
            assertTrue(now.containsAll(left), "the spare left is kept");
            List<Long> next = new ArrayList<>(left);
            now.stream().filter(p -> !left.contains(p)).sorted().forEach(next::add);
            spares = next;
            restored.stop();
            invocation++;
        }
        assertTrue(QemuPlatform.qemusLeft().getFirst().contains("-incoming defer"), QemuPlatform.qemusLeft().toString());
        platform.runtime().deactivate();
        assertEquals(List.of(), QemuPlatform.qemusLeft(), "deactivating the runtime ends its spare");
    }

    /** The QEMUs running beside the one of pid {@code vm}. */
    private static Set<Long> others(long vm) {
        return qemuPids().stream().filter(p -> p != vm).collect(Collectors.toSet());
    }

    private static List<Long> qemuPids() {
        return QemuPlatform.qemusLeft().stream().map(line -> Long.parseLong(line.substring(0, line.indexOf(' ')))).toList();
    }
}
