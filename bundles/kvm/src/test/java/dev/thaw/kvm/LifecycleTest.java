package dev.thaw.kvm;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.RunState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.kvm.impl.KvmHypervisor;
import dev.thaw.linux.Libc;
import dev.thaw.testing.Await;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.Exits;
import dev.thaw.testing.Guests;
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

/**
 * KVM's own side of creating and closing VMs: refusals, validation of memory added slot by slot, the kick
 * signal, spare VMs, the hypervisor's deactivation. (What the SPI promises of every runtime is tested in
 * thaw-runtime-contract.)
 */
@RequiresKvm
@Timeout(60)
class LifecycleTest {

    @RegisterExtension
    static final KvmFixture kvm = new KvmFixture();

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
        Await.until("two spares (kept per layout)", KvmFixture.WAIT, () -> own.sparesReady() == 2);
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
        Await.until("the guest counting in the spare's memory", KvmFixture.WAIT, () -> TestVms.counter(vm) > 100);
        Await.until("the spare taken made again", KvmFixture.WAIT, () -> own.sparesReady() == 2);
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


    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

}
