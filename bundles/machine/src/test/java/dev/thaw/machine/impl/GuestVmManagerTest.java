package dev.thaw.machine.impl;

import dev.thaw.support.guest.ConsoleLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import dev.thaw.testing.KnownAnswers;
import dev.thaw.testing.Runtimes;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
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

    /** The first result line of a VM booted for {@code r}, once the runtime's counters show the run was whole. */
    String firstResult(BootRequest r) {
        Vm vm = manager.boot(r);
        String line = vm.awaitLine("result ", 0, WAIT);
        assertCounted(vm);
        return line;
    }

    /**
     * On the emulated runtime the guest ran instructions, and none that the interpreter lacks (a lacking one
     * would be a #UD the guest panics on, or worse, survives); KVM counts nothing.
     */
    void assertCounted(Vm vm) {
        Map<String, Long> counters = vm.runtimeCounters();
        if (!runtime.equals(Runtimes.EMULATED)) {
            assertEquals(Map.of(), counters, "the " + runtime + " runtime counts nothing");
            return;
        }
        assertEquals(0L, counters.get(VirtualMachine.UNIMPLEMENTED_OPCODES), vm.id() + ": " + counters);
        assertTrue(counters.get(VirtualMachine.INSTRUCTIONS) > 0, vm.id() + ": " + counters);
    }

    @Test
    void fillGivesTheKnownChecksumForOneTwoAndFourVcpus() {
        for (int vcpus : new int[] {1, 2, 4}) {
            BootRequest r = request("fill" + vcpus, 64L << 20, vcpus, Workload.FILL, 1, 4096, TouchOrder.SEQUENTIAL, 4096);
            assertEquals("result fill a984f427d1253169", firstResult(r), vcpus + " vCPUs");
        }
    }

    @Test
    void theRuntimesCountersOutliveTheVm() {
        Vm vm = manager.boot(request("counted", 64L << 20, 1, Workload.FUNCTION, 1, 1L << 20, TouchOrder.SEQUENTIAL, 4096));
        vm.awaitLine("result ", 0, WAIT);
        vm.stop();
        assertCounted(vm);
        Map<String, Long> last = vm.runtimeCounters();
        assertEquals(last, vm.runtimeCounters(), "a stopped VM's counters no longer change");
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

    /**
     * With a resident set, the init hashes more memory than the invocations read; with a write percent below 100 the
     * invocations write only some of the pages they read, and from the second on they answer otherwise.
     */
    @ParameterizedTest(name = "{0}")
    @FieldSource("dev.thaw.testing.KnownAnswers#FUNCTION_CASES")
    void functionAnswersInvocationsThatDependOnAllBefore(KnownAnswers.FunctionCase known) {
        List<String> answers = known.answers();
        Vm vm = manager.boot(known.request("fn", 2));
        assertEquals(answers.get(0), vm.awaitLine("result ", 0, WAIT));
        Invocation first = vm.invoke(WAIT);
        Invocation second = vm.invoke(WAIT);
        assertEquals(new Invocation(1, answers.get(1), first.elapsed()), first);
        assertEquals(new Invocation(2, answers.get(2), second.elapsed()), second);
        vm.sendInput("bogus\n");
        assertEquals("error unknown command bogus", vm.awaitLine("error ", 0, WAIT));
        assertEquals(answers.get(3), vm.invoke(WAIT).resultLine());
        assertCounted(vm);
    }

    /**
     * The guest's status block (guest/README.md, "Status block") counts what the VMM's interrupt controllers
     * and UART delivered: LAPIC timer ticks, UART interrupts, the bytes sent, the invocations made. Read from
     * a snapshot of the running VM, as any tool would read it, not from the VM's memory.
     */
    @Test
    void theGuestsStatusBlockCountsTimerTicksUartInterruptsBytesReceivedAndInvocations(@TempDir Path dir) throws InterruptedException {
        Vm vm = manager.boot(request("status", 64L << 20, 2, Workload.FUNCTION, 3, 1L << 20, TouchOrder.SEQUENTIAL, 4096));
        vm.awaitLine("result ", 0, WAIT);
        int invocations = 3;
        for (int i = 0; i < invocations; i++) {
            vm.invoke(WAIT);
        }
        Thread.sleep(50); // a few more timer periods (about 1 ms each) while the guest waits in HLT
        Path file = dir.resolve("status.snap");
        vm.snapshot(file, true, Progress.NONE);
        long[] status = statusBlock(file);
        assertTrue(status[STATUS_TICKS] > 0, "LAPIC timer ticks on vCPU 0: " + status[STATUS_TICKS]);
        assertEquals(2, status[STATUS_CPUS_ONLINE], "cpus_online");
        assertTrue(status[STATUS_UART_IRQS] > 0, "UART interrupts: " + status[STATUS_UART_IRQS]);
        assertEquals((long) invocations * ConsoleLog.INVOKE_REQUEST.length(), status[STATUS_RX_BYTES], "rx_bytes");
        assertEquals(invocations, status[STATUS_INVOCATIONS], "invocations");
        assertTrue(vm.invoke(WAIT).resultLine().startsWith("result function "), "the VM runs on after the snapshot");
    }

    /** Indexes into {@link #statusBlock}: u64 ticks[16], then these (guest/src/guest.h, struct guest_status). */
    static final int STATUS_TICKS = 0, STATUS_CPUS_ONLINE = 16, STATUS_UART_IRQS = 17, STATUS_RX_BYTES = 18,
            STATUS_INVOCATIONS = 19;

    /** The status block's 20 words, at the address the image header gives (offset 0x30), from RAM region 0 of {@code snapshot}. */
    long[] statusBlock(Path snapshot) {
        long address = ByteBuffer.wrap(GuestImage.bundled().bytes()).order(ByteOrder.LITTLE_ENDIAN).getLong(0x30);
        int words = STATUS_INVOCATIONS + 1;
        long firstPage = address / 4096;
        long pages = (address + 8L * words + 4095) / 4096 - firstPage;
        try (SnapshotReader reader = platform.formats().open(snapshot); Arena arena = Arena.ofConfined()) {
            assertEquals(0, reader.regions().get(0).guestAddress(), "region 0 starts at 0");
            MemorySegment page = arena.allocate(pages * 4096, 4096);
            reader.readPages(0, firstPage, pages, page);
            long[] status = new long[words];
            for (int i = 0; i < words; i++) {
                status[i] = page.get(ValueLayout.JAVA_LONG_UNALIGNED, address - firstPage * 4096 + 8L * i);
            }
            return status;
        }
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
