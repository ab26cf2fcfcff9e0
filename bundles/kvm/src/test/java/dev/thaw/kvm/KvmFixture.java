package dev.thaw.kvm;

import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.kvm.impl.KvmHypervisor;
import dev.thaw.testing.Await;
import dev.thaw.testing.Exits;
import dev.thaw.testing.Guests;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class's hypervisor (opened before its first test, closed after its last) and the VMs its tests
 * make, each closed after its test. Register with {@code @RegisterExtension static final KvmFixture kvm = new KvmFixture();}
 * next to {@code @RequiresKvm}. VMs have {@link TestVms#MEMORY} at 0 and run one of the {@link Guests}.
 */
final class KvmFixture implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    /** How long a test waits for a guest to get somewhere. */
    static final Duration WAIT = Duration.ofSeconds(10);
    /** Guest counter value that shows a {@link Guests#COUNTER_LOOP} guest is running. */
    static final int COUNTING = 1000;

    private KvmHypervisor hypervisor;
    private final List<VirtualMachine> vms = new ArrayList<>();

    /** A VM's snapshot, as tests take it: its vCPUs' and its own state, and its memory. */
    record Saved(List<VcpuState> vcpus, VmArchState arch, byte[] memory, int counter) {}

    @Override
    public void beforeAll(ExtensionContext context) {
        hypervisor = new KvmHypervisor();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (VirtualMachine vm : vms) {
            vm.close();
        }
        vms.clear();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        hypervisor.close();
    }

    Hypervisor hypervisor() {
        return hypervisor;
    }

    /** A VM with {@code code} at the entry point and {@code vcpus} vCPUs set up for it; not started. */
    VirtualMachine create(String prefix, byte[] code, int vcpus) {
        return track(TestVms.create(hypervisor, prefix, code, vcpus));
    }

    /** As {@link #create}, started with a {@link TestVms.Recorder} and {@link Exits}. */
    VirtualMachine start(String prefix, byte[] code, int vcpus) {
        VirtualMachine vm = create(prefix, code, vcpus);
        vm.start(new TestVms.Recorder(), new Exits());
        return vm;
    }

    /** A started {@link Guests#COUNTER_LOOP} VM whose counter has passed {@link #COUNTING}. */
    VirtualMachine counting(String prefix, int vcpus) throws InterruptedException {
        VirtualMachine vm = start(prefix, Guests.COUNTER_LOOP, vcpus);
        Await.until(vm.name() + " counting", WAIT, () -> TestVms.counter(vm) > COUNTING);
        return vm;
    }

    /** Every vCPU's state, the VM's state and its low memory; the VM must be paused or stopped. */
    Saved save(VirtualMachine vm) {
        List<VcpuState> states = new ArrayList<>();
        for (Vcpu v : vm.vcpus()) {
            states.add(v.saveState());
        }
        return new Saved(states, vm.saveArchState(),
                vm.memory().getFirst().memory().toArray(ValueLayout.JAVA_BYTE), TestVms.counter(vm));
    }

    /** A fresh VM with {@code saved}'s memory and state, in the order a restore uses; not started. */
    VirtualMachine restore(String prefix, Saved saved) {
        VirtualMachine vm = track(hypervisor.createVm(VmOptions.named(TestVms.uniqueName(prefix))));
        vm.addMemory(0, TestVms.MEMORY).memory().copyFrom(MemorySegment.ofArray(saved.memory()));
        List<Vcpu> vcpus = vm.createVcpus(saved.vcpus().size(), VcpuSetup.none());
        for (int i = 0; i < vcpus.size(); i++) {
            vcpus.get(i).restoreState(saved.vcpus().get(i));
        }
        vm.restoreArchState(saved.arch());
        return vm;
    }

    private VirtualMachine track(VirtualMachine vm) {
        vms.add(vm);
        return vm;
    }
}
