package dev.thaw.kvm;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.RunState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.kvm.TestVms.Exits;
import dev.thaw.kvm.impl.KvmHypervisor;
import dev.thaw.linux.Libc;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.RequiresKvm;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Creating, sizing and closing VMs: large memory, validation, nothing leaked. */
@RequiresKvm
@Timeout(60)
class LifecycleTest {

    private static final long GIB = 1L << 30;

    @RegisterExtension
    static final KvmFixture kvm = new KvmFixture();

    @Test
    void sixtyFourGibOfGuestMemoryIsMappedWithoutBeingTouchedAndTheVmClosesCleanly() throws Exception {
        long rssBefore = rssKib();
        long start = System.nanoTime();
        VirtualMachine vm = kvm.create("big", Guests.COUNTER_LOOP, 1);
        GuestMemoryRegion big = vm.addMemory(4 * GIB, 64 * GIB);
        long added = System.nanoTime() - start;
        assertEquals(64 * GIB, big.size());
        assertEquals(1, big.index());
        assertEquals(2, vm.memory().size());
        // One page at the very end is touched, by the VMM, and reads back.
        vm.guestMemory(4 * GIB + 64 * GIB - 8, 8).set(ValueLayout.JAVA_LONG, 0, 0x1234_5678L);
        assertEquals(0x1234_5678L, big.memory().get(ValueLayout.JAVA_LONG, 64 * GIB - 8));
        vm.start(new TestVms.Recorder(), new Exits());
        TestVms.await("the guest running beside 64 GiB", KvmFixture.WAIT, () -> TestVms.counter(vm) > 1000);
        assertTrue(rssKib() - rssBefore < 512 * 1024, "64 GiB stayed uncommitted; RSS grew "
                + (rssKib() - rssBefore) + " KiB");
        System.out.printf("64 GiB slot added in %d ms%n", added / 1_000_000);
        vm.close();
        assertEquals(RunState.CLOSED, vm.runState());
    }

    @Test
    void closingAVmThatRanFreesEveryFileDescriptor() throws Exception {
        long before = openFds(); // /dev/kvm was opened when the hypervisor activated
        try (VirtualMachine vm = TestVms.create(kvm.hypervisor(), "fds", Guests.COUNTER_LOOP, 2)) {
            vm.addMemory(16 << 20, 16 << 20);
            vm.start(new TestVms.Recorder(), new Exits());
            TestVms.await("counting", KvmFixture.WAIT, () -> TestVms.counter(vm) > 100);
            vm.pause();
            vm.vcpus().getFirst().saveState();
            vm.resume();
            assertTrue(openFds() > before, "the VM holds fds while open");
        }
        long after = openFds();
        for (int i = 0; i < 50 && after != before; i++) {
            Thread.sleep(20);
            after = openFds();
        }
        assertEquals(before, after, "fds after close");
    }

    @Test
    void aVmThatKvmRefusesLeavesNoFileDescriptorBehind() throws Exception {
        long before = openFds();
        // KVM refuses a TSS that does not fit below 4 GiB.
        VmOptions refused = new VmOptions(TestVms.uniqueName("refused"), true, 0xffff_f000L,
                VmOptions.DEFAULT_IDENTITY_MAP_ADDRESS);
        KvmException e = assertThrows(KvmException.class, () -> kvm.hypervisor().createVm(refused));
        assertTrue(e.getMessage().contains("KVM_SET_TSS_ADDR failed: EINVAL (Invalid argument)"), e.getMessage());
        assertEquals(before, openFds());
    }

    /**
     * vCPU threads are kicked out of KVM_RUN with SIGURG. The JVM must neither catch nor ignore it
     * (HotSpot handles SEGV, BUS, FPE, ILL, PIPE, XFSZ, USR2, HUP, INT, TERM and QUIT).
     */
    @Test
    void theKickSignalIsOneTheJvmLeavesAlone() throws IOException {
        long bit = Libc.sigbit(Libc.SIGURG);
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigCgt:") || line.startsWith("SigIgn:")) {
                long mask = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                assertEquals(0, mask & bit, "SIGURG in " + line);
            }
        }
    }

    @Test
    void memoryMustBeAlignedAndMustNotOverlap() {
        try (VirtualMachine vm = kvm.hypervisor().createVm(VmOptions.named(TestVms.uniqueName("mem")))) {
            vm.addMemory(0, 1 << 20);
            IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                    () -> vm.addMemory(0x80000, 1 << 20));
            assertTrue(overlap.getMessage().contains("overlaps slot 0 [0x0, 0x100000)"), overlap.getMessage());
            IllegalArgumentException unaligned = assertThrows(IllegalArgumentException.class,
                    () -> vm.addMemory(0x200001, 4096));
            assertTrue(unaligned.getMessage().contains("page aligned"), unaligned.getMessage());
            IllegalArgumentException badSize = assertThrows(IllegalArgumentException.class,
                    () -> vm.addMemory(0x200000, 1000));
            assertTrue(badSize.getMessage().contains("multiple of the page size"), badSize.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> vm.guestMemory(0xff000, 0x2000));
            assertEquals(1, vm.memory().size(), "failed adds leave nothing behind");
        }
    }

    @Test
    void deactivatingTheHypervisorClosesItsVms() {
        KvmHypervisor own = new KvmHypervisor();
        VirtualMachine vm = TestVms.create(own, "owned", Guests.COUNTER_LOOP, 1);
        vm.start(new TestVms.Recorder(), new Exits());
        own.close();
        assertEquals(RunState.CLOSED, vm.runState());
        assertThrows(IllegalStateException.class, () -> own.createVm(VmOptions.named("late")));
    }

    @Test
    void aSpareVmIsMadeAheadTakenByTheNextVmOfItsLayoutMadeAgainAndClosedWithTheHypervisor() throws Exception {
        long before = openFds();
        KvmHypervisor own = new KvmHypervisor("/dev/kvm", 1);
        List<MemoryRange> memory = List.of(new MemoryRange(0, TestVms.MEMORY), new MemoryRange(64L << 20, 16L << 20));
        own.keepSpare(VmOptions.named("ahead"), memory);
        TestVms.await("two spares (kept per layout)", KvmFixture.WAIT, () -> own.sparesReady() == 2);
        long made = openFds();
        assertTrue(made > before, "the spare holds a VM fd");
        VirtualMachine vm = own.createVm(VmOptions.named("taken"), memory);
        assertEquals("taken", vm.name());
        assertEquals(memory, vm.memory().stream().map(r -> new MemoryRange(r.guestAddress(), r.size())).toList());
        assertEquals(List.of(0, 1), vm.memory().stream().map(GuestMemoryRegion::index).toList());
        assertEquals(0L, vm.guestMemory(64L << 20, 8).get(ValueLayout.JAVA_LONG, 0), "untouched memory reads zero");
        vm.guestMemory(Guests.ENTRY, Guests.COUNTER_LOOP.length).copyFrom(MemorySegment.ofArray(Guests.COUNTER_LOOP));
        vm.createVcpus(1, VcpuSetup.protectedMode32(Guests.ENTRY, 0x7000));
        vm.start(new TestVms.Recorder(), new Exits());
        TestVms.await("the guest counting in the spare's memory", KvmFixture.WAIT, () -> TestVms.counter(vm) > 100);
        TestVms.await("the spare taken made again", KvmFixture.WAIT, () -> own.sparesReady() == 2);
        own.modified(ConfigProxy.of(KvmHypervisor.Config.class, Map.of("spareLayouts", -1)));
        assertEquals(2, own.sparesReady(), "-1 layouts is out of range: refused, the spares stay");
        VirtualMachine other = own.createVm(VmOptions.named("other"), List.of(new MemoryRange(0, TestVms.MEMORY)));
        assertEquals(1, other.memory().size(), "another layout is made on the spot");
        own.modified(ConfigProxy.of(KvmHypervisor.Config.class, Map.of("spareLayouts", 0)));
        assertEquals(0, own.sparesReady(), "configured to none: the spares are closed, the running VM is not");
        assertEquals(RunState.RUNNING, vm.runState());
        own.close();
        assertEquals(RunState.CLOSED, vm.runState());
        assertEquals(0, own.sparesReady());
        assertEquals(before, openFds(), "VMs, spares and /dev/kvm closed");
    }

    @Test
    void aMissingDeviceIsReportedByName() {
        KvmHypervisor missing = new KvmHypervisor("/nonexistent/kvm", 0);
        KvmException e = assertThrows(KvmException.class, () -> missing.createVm(VmOptions.named("nope")));
        assertTrue(e.getMessage().contains("open /nonexistent/kvm") && e.getMessage().contains("ENOENT"), e.getMessage());
        missing.close();
    }

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static long rssKib() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElseThrow();
    }
}
