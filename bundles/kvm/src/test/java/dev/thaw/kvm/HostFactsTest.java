package dev.thaw.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.kvm.TestVms.Exits;
import dev.thaw.kvm.impl.KvmHypervisor;
import dev.thaw.testing.RequiresKvm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hypervisor probes some facts once per host (the saveable MSRs, the XSAVE size) and reuses them
 * for every VM. Only host facts may be reused: a cache that kept the probing VM's vCPU, its MSR values
 * or its shape would hand a later VM someone else's state.
 */
@RequiresKvm
@Timeout(60)
class HostFactsTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    /** MSR_KERNEL_GS_BASE: saveable, any canonical value, unused by the counting guest. */
    private static final long MSR_KERNEL_GS_BASE = 0xc000_0102L;
    private static KvmHypervisor hypervisor;

    @BeforeAll
    static void openKvm() {
        hypervisor = new KvmHypervisor();
    }

    @AfterAll
    static void closeKvm() {
        hypervisor.close();
    }

    /** What a VM's snapshot holds here: its vCPUs' and its own state, and its memory. */
    private record Saved(List<VcpuState> vcpus, VmArchState arch, byte[] memory, int counter) {}

    @Test
    void vmsOfDifferentSizesEachSaveAndRestoreTheirOwnState() throws Exception {
        Saved small;
        Saved large;
        try (VirtualMachine one = TestVms.create(hypervisor, "one", Guests.COUNTER_LOOP, 1);
                VirtualMachine three = TestVms.create(hypervisor, "three", Guests.COUNTER_LOOP, 3)) {
            one.start(new TestVms.Recorder(), new Exits());
            three.start(new TestVms.Recorder(), new Exits());
            TestVms.await("both counting", WAIT, () -> TestVms.counter(one) > 1000 && TestVms.counter(three) > 1000);
            one.pause();
            three.pause();
            mark(one, 1);
            mark(three, 3);
            small = save(one);
            one.close(); // the larger VM's state must not depend on the smaller one's vCPUs
            large = save(three);
        }
        assertMarked(small.vcpus(), 1);
        assertMarked(large.vcpus(), 3);
        assertEquals(msrIndices(small.vcpus().getFirst()), msrIndices(large.vcpus().getLast()),
                "every vCPU of every VM saves the same MSRs");

        // Restored in the other order, into fresh VMs of the same sizes, each continues as itself.
        try (VirtualMachine three = restore("three-again", large);
                VirtualMachine one = restore("one-again", small)) {
            assertMarked(saveAll(three), 3);
            assertMarked(saveAll(one), 1);
            three.start(new TestVms.Recorder(), new Exits());
            one.start(new TestVms.Recorder(), new Exits());
            TestVms.await("both counting on", WAIT, () -> TestVms.counter(one) > small.counter() + 1000
                    && TestVms.counter(three) > large.counter() + 1000);
        }
    }

    /** Gives vCPU i of VM {@code vm} its own MSR_KERNEL_GS_BASE. */
    private static void mark(VirtualMachine vm, int vmNumber) {
        for (Vcpu v : vm.vcpus()) {
            v.setMsrs(List.of(new MsrEntry(MSR_KERNEL_GS_BASE, marker(vmNumber, v.index()))));
        }
    }

    private static long marker(int vmNumber, int vcpu) {
        return 0xffff_8000_0000_0000L | (long) vmNumber << 20 | (long) vcpu << 12;
    }

    private static void assertMarked(List<VcpuState> states, int vmNumber) {
        assertEquals(vmNumber, states.size());
        for (int i = 0; i < states.size(); i++) {
            long value = states.get(i).msrs().stream().filter(m -> m.index() == MSR_KERNEL_GS_BASE)
                    .findFirst().orElseThrow().data();
            assertEquals(marker(vmNumber, i), value, "VM " + vmNumber + " vCPU " + i + " kept its own MSR");
        }
    }

    private static List<Long> msrIndices(VcpuState state) {
        return state.msrs().stream().map(MsrEntry::index).toList();
    }

    private static List<VcpuState> saveAll(VirtualMachine vm) {
        List<VcpuState> states = new ArrayList<>();
        for (Vcpu v : vm.vcpus()) {
            states.add(v.saveState());
        }
        return states;
    }

    private static Saved save(VirtualMachine vm) {
        return new Saved(saveAll(vm), vm.saveArchState(),
                vm.memory().getFirst().memory().toArray(ValueLayout.JAVA_BYTE), TestVms.counter(vm));
    }

    private static VirtualMachine restore(String prefix, Saved saved) {
        VirtualMachine vm = hypervisor.createVm(VmOptions.named(TestVms.uniqueName(prefix)));
        vm.addMemory(0, TestVms.MEMORY).memory().copyFrom(MemorySegment.ofArray(saved.memory()));
        List<Vcpu> vcpus = vm.createVcpus(saved.vcpus().size(), VcpuSetup.none());
        for (int i = 0; i < vcpus.size(); i++) {
            vcpus.get(i).restoreState(saved.vcpus().get(i));
        }
        vm.restoreArchState(saved.arch());
        return vm;
    }
}
