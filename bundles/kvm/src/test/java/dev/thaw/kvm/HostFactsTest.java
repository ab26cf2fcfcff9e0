package dev.thaw.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.VcpuState;
import dev.thaw.kvm.KvmFixture.Saved;
import dev.thaw.testing.Await;
import dev.thaw.testing.Exits;
import dev.thaw.testing.RequiresKvm;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hypervisor probes some facts once per host (the saveable MSRs, the XSAVE size) and reuses them
 * for every VM. Only host facts may be reused: a cache that kept the probing VM's vCPU, its MSR values
 * or its shape would hand a later VM someone else's state.
 */
@RequiresKvm
@Timeout(60)
class HostFactsTest {

    /** MSR_KERNEL_GS_BASE: saveable, any canonical value, unused by the counting guest. */
    private static final long MSR_KERNEL_GS_BASE = 0xc000_0102L;

    @RegisterExtension
    static final KvmFixture kvm = new KvmFixture();

    @Test
    void vmsOfDifferentSizesEachSaveAndRestoreTheirOwnState() throws Exception {
        VirtualMachine one = kvm.counting("one", 1);
        VirtualMachine three = kvm.counting("three", 3);
        one.pause();
        three.pause();
        mark(one, 1);
        mark(three, 3);
        Saved small = kvm.save(one);
        one.close(); // the larger VM's state must not depend on the smaller one's vCPUs
        Saved large = kvm.save(three);
        three.close();
        assertMarked(small.vcpus(), 1);
        assertMarked(large.vcpus(), 3);
        assertEquals(msrIndices(small.vcpus().getFirst()), msrIndices(large.vcpus().getLast()),
                "every vCPU of every VM saves the same MSRs");

        // Restored in the other order, into fresh VMs of the same sizes, each continues as itself.
        VirtualMachine threeAgain = kvm.restore("three-again", large);
        VirtualMachine oneAgain = kvm.restore("one-again", small);
        assertMarked(kvm.save(threeAgain).vcpus(), 3);
        assertMarked(kvm.save(oneAgain).vcpus(), 1);
        threeAgain.start(new TestVms.Recorder(), new Exits());
        oneAgain.start(new TestVms.Recorder(), new Exits());
        Await.until("both counting on", KvmFixture.WAIT, () -> TestVms.counter(oneAgain) > small.counter() + 1000
                && TestVms.counter(threeAgain) > large.counter() + 1000);
    }

    /** Gives each vCPU of VM number {@code vmNumber} its own MSR_KERNEL_GS_BASE. */
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
}
