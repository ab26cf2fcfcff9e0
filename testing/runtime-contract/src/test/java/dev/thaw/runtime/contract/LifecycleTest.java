package dev.thaw.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.api.runtime.VmSpec;
import dev.thaw.runtime.contract.RuntimeVms.Recorder;
import dev.thaw.testing.Await;
import dev.thaw.testing.Exits;
import dev.thaw.testing.Guests;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** A VM's life through the SPI: large memory left uncommitted, its run states, nothing leaked once closed. */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(60)
class LifecycleTest {

    private static final long GIB = 1L << 30;

    @Parameter
    String runtime;
    RuntimeVms vms;

    @BeforeEach
    void open() {
        vms = new RuntimeVms(runtime);
    }

    @AfterEach
    void close() throws Exception {
        if (vms != null) { // null where the runtime cannot run here: the test was skipped
            vms.close();
        }
    }

    @Test
    void sixtyFourGibOfGuestMemoryIsMappedWithoutBeingTouchedAndTheVmClosesCleanly() throws Exception {
        long rssBefore = rssKib();
        long start = System.nanoTime();
        VirtualMachine vm = vms.createEmpty("big", List.of(new MemoryRange(0, RuntimeVms.MEMORY), new MemoryRange(4 * GIB, 64 * GIB)));
        long created = System.nanoTime() - start;
        RuntimeVms.load(vm, Guests.COUNTER_LOOP, 1);
        assertEquals(2, vm.memory().size());
        GuestMemoryRegion big = vm.memory().get(1);
        assertEquals(64 * GIB, big.size());
        assertEquals(4 * GIB, big.guestAddress());
        assertEquals(1, big.index());
        // One page at the very end is touched, by the VMM, and reads back.
        vm.guestMemory(4 * GIB + 64 * GIB - 8, 8).set(ValueLayout.JAVA_LONG, 0, 0x1234_5678L);
        assertEquals(0x1234_5678L, big.memory().get(ValueLayout.JAVA_LONG, 64 * GIB - 8));
        vm.start(new Recorder(), new Exits());
        Await.until("the guest running beside 64 GiB", RuntimeVms.WAIT, () -> RuntimeVms.counter(vm) > 1000);
        assertTrue(rssKib() - rssBefore < 512 * 1024, "64 GiB stayed uncommitted; RSS grew "
                + (rssKib() - rssBefore) + " KiB");
        System.out.printf("%s: VM with 64 GiB created in %d ms%n", runtime, created / 1_000_000);
        vm.close();
        assertEquals(RunState.CLOSED, vm.runState());
        assertFalse(big.memory().scope().isAlive(), "the memory is unmapped");
    }

    @Test
    void aVmGoesThroughItsRunStatesAndClosingItFreesItsThreadsFileDescriptorsAndMemory() throws Exception {
        closeAfterRunning(); // settle first-use resources (pooled vCPU threads, /dev/kvm): not per VM
        long fds = openFds();
        long threads = vcpuThreads();
        closeAfterRunning();
        long fdsAfter = openFds();
        long threadsAfter = vcpuThreads();
        for (int i = 0; i < 50 && (fdsAfter != fds || threadsAfter != threads); i++) {
            Thread.sleep(20);
            fdsAfter = openFds();
            threadsAfter = vcpuThreads();
        }
        assertEquals(fds, fdsAfter, "file descriptors after close");
        assertEquals(threads, threadsAfter, "vCPU threads after close");
    }

    private void closeAfterRunning() throws Exception {
        long fds = openFds();
        long threads = vcpuThreads();
        VirtualMachine vm = vms.createEmpty("life", List.of(new MemoryRange(0, RuntimeVms.MEMORY), new MemoryRange(16 << 20, 16 << 20)));
        vms.forget(vm);
        RuntimeVms.load(vm, Guests.COUNTER_LOOP, 2);
        assertEquals(RunState.CREATED, vm.runState());
        assertTrue(vm.exit().isEmpty());
        Exits exits = new Exits();
        vm.start(new Recorder(), exits);
        assertEquals(RunState.RUNNING, vm.runState());
        Await.until("counting", RuntimeVms.WAIT, () -> RuntimeVms.counter(vm) > 100);
        vm.pause();
        assertEquals(RunState.PAUSED, vm.runState());
        vm.vcpus().getFirst().saveState();
        vm.resume();
        assertEquals(RunState.RUNNING, vm.runState());
        assertTrue(vm.exit().isEmpty(), "no exit while running");
        // KVM holds VM and vCPU fds (its vCPU threads are pooled); the emulated runtime holds threads.
        assertTrue(openFds() > fds || vcpuThreads() > threads, "a running VM holds file descriptors or vCPU threads");
        List<GuestMemoryRegion> memory = vm.memory();
        vm.close();
        assertEquals(RunState.CLOSED, vm.runState());
        assertEquals(VmExit.Kind.STOPPED, vm.exit().orElseThrow().kind());
        Await.until("the listener", RuntimeVms.WAIT, () -> !exits.exits.isEmpty());
        for (GuestMemoryRegion r : memory) {
            assertFalse(r.memory().scope().isAlive(), "region " + r.index() + " is unmapped");
        }
        vm.close(); // idempotent
        vm.stop(); // harmless once closed
        assertEquals(RunState.CLOSED, vm.runState());
        assertEquals(List.of(VmExit.Kind.STOPPED), exits.exits.stream().map(VmExit::kind).toList(), "the listener heard once");
    }

    @Test
    void memoryMustBeWholeAlignedPagesThatDoNotOverlapAndARefusedVmLeavesNothingBehind() throws Exception {
        vms.createEmpty("warm", List.of(new MemoryRange(0, 1 << 20))).close(); // settle first-use resources
        long fds = openFds();
        long threads = vcpuThreads();
        assertRefused(List.of(new MemoryRange(0, 1 << 20), new MemoryRange(0x80000, 1 << 20)), "overlaps", "0x80000");
        assertRefused(List.of(new MemoryRange(0, 1 << 20), new MemoryRange(0x200001, 4096)), "0x200001");
        assertRefused(List.of(new MemoryRange(0, 1 << 20), new MemoryRange(0x200000, 1000)), "1000");
        assertEquals(fds, openFds(), "file descriptors after the refusals");
        assertEquals(threads, vcpuThreads());

        VirtualMachine vm = vms.createEmpty("mem", List.of(new MemoryRange(0, 1 << 20), new MemoryRange(0x200000, 1 << 20)));
        assertEquals(List.of(new MemoryRange(0, 1 << 20), new MemoryRange(0x200000, 1 << 20)),
                vm.memory().stream().map(r -> new MemoryRange(r.guestAddress(), r.size())).toList());
        assertEquals(List.of(0, 1), vm.memory().stream().map(GuestMemoryRegion::index).toList());
        assertEquals(0L, vm.guestMemory(0x2ff000, 0x1000).get(ValueLayout.JAVA_LONG, 0xff8), "untouched memory reads zero");
        assertThrows(IndexOutOfBoundsException.class, () -> vm.guestMemory(0xff000, 0x2000), "across a region's end");
        assertThrows(IndexOutOfBoundsException.class, () -> vm.guestMemory(0x100000, 8), "in a hole");
        assertThrows(IndexOutOfBoundsException.class, () -> vm.guestMemory(0x1ff000, 0x2000), "from a hole into a region");
    }

    private void assertRefused(List<MemoryRange> memory, String... mentioned) {
        String name = RuntimeVms.uniqueName("refused");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> vms.runtime().createVm(new VmSpec(name, memory)), memory.toString());
        assertTrue(e.getMessage().contains(name), "the message names the VM: " + e.getMessage());
        for (String m : mentioned) {
            assertTrue(e.getMessage().contains(m), m + " in: " + e.getMessage());
        }
    }

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static long vcpuThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("vcpu-")).count();
    }

    private static long rssKib() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElseThrow();
    }
}
