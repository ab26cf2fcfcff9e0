package dev.thaw.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.VcpuRuntimeException;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.state.VcpuState;
import dev.thaw.linux.kvm.Kvm;
import dev.thaw.linux.kvm.KvmConstants;
import dev.thaw.runtime.contract.RuntimeVms.Recorder;
import dev.thaw.runtime.contract.RuntimeVms.Saved;
import dev.thaw.testing.Await;
import dev.thaw.testing.Exits;
import dev.thaw.testing.Runtimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TSC rate travels with a vCPU's state: saved, set again on restore where the runtime can (the emulated
 * runtime always; KVM with KVM_CAP_TSC_CONTROL), refused in one line naming both rates where it cannot, and
 * the host's own where a state does not say (saved before Thaw recorded it).
 */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(60)
class TscRateTest {

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

    /** A VM's state saved here, and the rate its vCPU ran at. */
    private Saved saved() throws InterruptedException {
        VirtualMachine source = vms.counting("tsc", 1);
        source.pause();
        Saved saved = RuntimeVms.save(source);
        assertTrue(saved.vcpus().getFirst().tscKhz() > 0, "the rate is saved: " + saved.vcpus().getFirst().tscKhz());
        return saved;
    }

    private static Saved withTscKhz(Saved s, long khz) {
        return new Saved(s.vcpus().stream().map(v -> v.withTscKhz(khz)).toList(), s.arch(), s.memory(), s.counter());
    }

    @Test
    void aStateRestoredHereRunsAtItsRate() throws Exception {
        Saved saved = saved();
        VirtualMachine target = vms.restore("tsc-same", saved);
        assertEquals(saved.vcpus().getFirst().tscKhz(), target.vcpus().getFirst().saveState().tscKhz());
    }

    @Test
    void aStateFromAHostOfAnotherRateRunsAtThatRateOrIsRefusedNamingBoth() throws Exception {
        Saved saved = saved();
        long here = saved.vcpus().getFirst().tscKhz();
        long there = here * 3 / 2;
        Saved moved = withTscKhz(saved, there);
        if (canRunAnyRate()) {
            VirtualMachine target = vms.restore("tsc-moved", moved);
            assertEquals(there, target.vcpus().getFirst().saveState().tscKhz());
            target.start(new Recorder(), new Exits());
            Await.until("the guest runs on at the other rate", RuntimeVms.WAIT,
                    () -> RuntimeVms.counter(target) > saved.counter() + 1000);
        } else {
            VcpuRuntimeException e = assertThrows(VcpuRuntimeException.class, () -> vms.restore("tsc-moved", moved));
            assertTrue(e.getMessage().contains(there + " kHz") && e.getMessage().contains(here + " kHz"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aStateThatDoesNotSayItsRateRunsAtTheHostsRate() throws Exception {
        Saved saved = saved();
        VirtualMachine target = vms.restore("tsc-unknown", withTscKhz(saved, VcpuState.TSC_KHZ_UNKNOWN));
        assertEquals(saved.vcpus().getFirst().tscKhz(), target.vcpus().getFirst().saveState().tscKhz());
    }

    /** The emulated runtime counts at any rate; KVM where it can scale the guest's TSC (KVM_CAP_TSC_CONTROL). */
    private boolean canRunAnyRate() {
        if (!runtime.equals(Runtimes.KVM)) {
            return true;
        }
        try (Kvm kvm = Kvm.open()) {
            return kvm.checkExtension(KvmConstants.KVM_CAP_TSC_CONTROL) > 0;
        }
    }
}
