package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Boots the real test guest on real KVM through the manager, outside OSGi. The expected checksums are
 * the known answers in guest/README.md, computed by a reference implementation independent of the guest.
 */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(120)
class GuestVmManagerTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @Parameter
    String runtime;
    TestPlatform platform;
    GuestVmManager manager;

    @BeforeEach
    void start() {
        platform = new TestPlatform(runtime);
        manager = platform.manager();
    }

    @AfterEach
    void stop() {
        if (platform != null) { // null where the runtime cannot run here: the test was skipped
            platform.close();
        }
    }

    static BootRequest request(String name, long memory, int vcpus, Workload workload, long seed, long workingSet, TouchOrder order, long stride) {
        return new BootRequest(name, memory, vcpus, workload, seed, workingSet, order, stride);
    }

    String firstResult(BootRequest r) {
        Vm vm = manager.boot(r);
        return vm.awaitLine("result ", 0, WAIT);
    }

    @Test
    void fillGivesTheKnownChecksumForOneAndTwoVcpus() {
        BootRequest one = request("fill1", 64L << 20, 1, Workload.FILL, 1, 4096, TouchOrder.SEQUENTIAL, 4096);
        BootRequest two = request("fill2", 64L << 20, 2, Workload.FILL, 1, 4096, TouchOrder.SEQUENTIAL, 4096);
        assertEquals("result fill a984f427d1253169", firstResult(one));
        assertEquals("result fill a984f427d1253169", firstResult(two));
    }

    @Test
    void fillExitsWithCodeZeroAndThenRefusesInput() throws InterruptedException {
        Vm vm = manager.boot(request("fill", 64L << 20, 1, Workload.FILL, 1, 4096, TouchOrder.SEQUENTIAL, 4096));
        vm.awaitLine("result ", 0, WAIT);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (vm.info().status() == VmStatus.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(VmStatus.EXITED, vm.info().status());
        assertEquals(0, vm.info().exitCode());
        VmException e = assertThrows(VmException.class, () -> vm.sendInput("x\n"));
        assertEquals("cannot send input fill: the guest exited with code 0", e.getMessage());
    }

    @Test
    void touchVisitsPagesInEachOrder() {
        long ws = 32L << 20;
        assertEquals("result touch 8de0d17337370957", firstResult(request("t0", 256L << 20, 1, Workload.TOUCH, 7, ws, TouchOrder.SEQUENTIAL, 4096)));
        assertEquals("result touch 7545c2853a48c2aa", firstResult(request("t1", 256L << 20, 1, Workload.TOUCH, 7, ws, TouchOrder.RANDOM, 4096)));
        assertEquals("result touch 64c1981362201b5d", firstResult(request("t2", 256L << 20, 1, Workload.TOUCH, 7, ws, TouchOrder.STRIDED, 3 * 4096)));
    }

    @Test
    void functionAnswersInvocationsThatDependOnAllBefore() {
        Vm vm = manager.boot(request("fn", 256L << 20, 2, Workload.FUNCTION, 42, 32L << 20, TouchOrder.SEQUENTIAL, 4096));
        assertEquals("result function e016509f7aa8e586", vm.awaitLine("result ", 0, WAIT));
        Invocation first = vm.invoke(WAIT);
        Invocation second = vm.invoke(WAIT);
        assertEquals(new Invocation(1, "result function 6c71a93ec3e9c7ee", first.elapsed()), first);
        assertEquals(new Invocation(2, "result function 2f3a6c86c9bbb019", second.elapsed()), second);
        vm.sendInput("bogus\n");
        assertEquals("error unknown command bogus", vm.awaitLine("error ", 0, WAIT));
        assertEquals("result function 0bd8172ee3aec3cd", vm.invoke(WAIT).resultLine());
    }

    @Test
    void stoppingFreesEveryFileDescriptorAndThread() throws IOException {
        bootAndStop(); // settle first-use resources (pooled vCPU threads, the hypervisor's /dev/kvm): not per VM
        long fds = openFds();
        long threads = vcpuThreads();
        for (int i = 0; i < 3; i++) {
            bootAndStop();
            assertEquals(fds, openFds(), "file descriptors after boot and stop number " + (i + 1));
            assertEquals(threads, vcpuThreads());
        }
    }

    private void bootAndStop() throws IOException {
        long fds = openFds();
        long threads = vcpuThreads();
        Vm vm = manager.boot(request("gone", 64L << 20, 2, Workload.FUNCTION, 1, 1L << 20, TouchOrder.SEQUENTIAL, 4096));
        vm.awaitLine("result ", 0, WAIT);
        // KVM holds VM and vCPU fds (its vCPU threads are pooled); the emulated runtime holds threads.
        assertTrue(openFds() > fds || vcpuThreads() > threads, "a running VM holds file descriptors or vCPU threads");
        vm.stop();
        assertTrue(manager.find("gone").isEmpty(), "a stopped VM leaves the list");
        vm.stop(); // idempotent
    }

    @Test
    void aRefusedBootLeavesNothingBehind() throws IOException {
        bootAndStop();
        long fds = openFds();
        assertThrows(IllegalArgumentException.class,
                () -> manager.boot(request("big", 64L << 20, 1, Workload.FUNCTION, 1, 128L << 20, TouchOrder.SEQUENTIAL, 4096)));
        assertThrows(IllegalArgumentException.class,
                () -> manager.boot(request("many", 64L << 20, 17, Workload.FILL, 1, 4096, TouchOrder.SEQUENTIAL, 4096)));
        assertEquals(fds, openFds());
        assertTrue(manager.list().isEmpty());
    }

    @Test
    void namesAreUniqueAndChosenWhenMissing() {
        Vm a = manager.boot(request(null, 64L << 20, 1, Workload.FUNCTION, 1, 1L << 20, TouchOrder.SEQUENTIAL, 4096));
        Vm b = manager.boot(request(null, 64L << 20, 1, Workload.FUNCTION, 1, 1L << 20, TouchOrder.SEQUENTIAL, 4096));
        assertEquals("vm1", a.id());
        assertEquals("vm2", b.id());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> manager.boot(request("vm1", 64L << 20, 1, Workload.FUNCTION, 1, 1L << 20, TouchOrder.SEQUENTIAL, 4096)));
        assertEquals("a VM named 'vm1' exists already", e.getMessage());
    }

    static long openFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    static long vcpuThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("vcpu-")).count();
    }
}
