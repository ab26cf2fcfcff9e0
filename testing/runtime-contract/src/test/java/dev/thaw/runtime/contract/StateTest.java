package dev.thaw.runtime.contract;

import static dev.thaw.testing.MsrAssertions.assertMsrsEqual;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.Vcpu;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.runtime.contract.RuntimeVms.Recorder;
import dev.thaw.runtime.contract.RuntimeVms.Saved;
import dev.thaw.testing.Await;
import dev.thaw.testing.Exits;
import dev.thaw.testing.Guests;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** A vCPU's and a VM's state read back as written, and carry a guest on into a fresh VM. */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(60)
class StateTest {

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
    void theVcpuAndVmStateRoundTripOnAVcpuThatRan() throws Exception {
        VirtualMachine vm = vms.counting("state", 1);
        Vcpu v = vm.vcpus().getFirst();
        vm.pause();

        VcpuState saved = v.saveState();
        v.restoreState(saved);
        VcpuState again = v.saveState();
        assertMsrsEqual(saved.msrs(), again.msrs());
        assertEquals(withoutMsrs(saved), withoutMsrs(again));
        assertEquals(0x11, saved.sregs().cr0());
        assertEquals(0x8, saved.sregs().cs().selector());
        assertTrue(saved.regs().rip() == Guests.ENTRY || saved.regs().rip() == Guests.ENTRY + 6,
                "rip 0x" + Long.toHexString(saved.regs().rip()));
        assertTrue(saved.xsave().region().length >= 4096, "xsave of " + saved.xsave().region().length + " bytes");
        assertTrue(!saved.msrs().isEmpty(), "saveable MSRs");

        VmArchState arch = vm.saveState();
        vm.restoreState(arch);
        VmArchState archAgain = vm.saveState();
        assertEquals(arch.picMaster(), archAgain.picMaster());
        assertEquals(arch.picSlave(), archAgain.picSlave());
        assertEquals(arch.ioapic(), archAgain.ioapic());
        assertEquals(arch.pit() == null, archAgain.pit() == null, "a PIT where there is one");
        if (arch.pit() != null) {
            assertEquals(arch.pit().flags(), archAgain.pit().flags());
            for (int i = 0; i < 3; i++) {
                // KVM_SET_PIT2 reloads each counter, stamping a new count_load_time.
                assertEquals(withoutLoadTime(arch.pit().channels().get(i)),
                        withoutLoadTime(archAgain.pit().channels().get(i)), "PIT channel " + i);
            }
        }
        long drift = archAgain.clock().clock() - arch.clock().clock();
        assertTrue(drift >= 0 && drift < 1_000_000_000L, "the clock restored (moved " + drift + " ns)");

        int before = RuntimeVms.counter(vm);
        vm.resume();
        Await.until("the guest runs on after its state was written back", RuntimeVms.WAIT,
                () -> RuntimeVms.counter(vm) > before + 1000);
        System.out.printf("%s: %d saveable MSRs: %s%n", runtime, saved.msrs().size(),
                saved.msrs().stream().map(m -> Long.toHexString(m.index())).toList());
    }

    /** The real use: state and memory taken from one VM make a fresh VM continue where the first stopped. */
    @Test
    void savedStateAndMemoryResumeTheGuestInAFreshVm() throws Exception {
        VirtualMachine source = vms.counting("source", 1);
        Await.until("counting", RuntimeVms.WAIT, () -> RuntimeVms.counter(source) > 5000);
        source.pause();
        Saved saved = RuntimeVms.save(source);
        source.close();
        VirtualMachine target = vms.restore("target", saved);
        Vcpu v = target.vcpus().getFirst();
        assertEquals(saved.vcpus().getFirst().regs(), v.saveState().regs());
        assertEquals(saved.vcpus().getFirst().sregs(), v.saveState().sregs());
        assertEquals(saved.counter(), RuntimeVms.counter(target));
        assertEquals(RunState.CREATED, target.runState());
        target.start(new Recorder(), new Exits());
        Await.until("the restored guest counting on", RuntimeVms.WAIT,
                () -> RuntimeVms.counter(target) > saved.counter() + 5000);
        target.pause();
        long rip = v.saveState().regs().rip();
        assertTrue(rip == Guests.ENTRY || rip == Guests.ENTRY + 6, "rip 0x" + Long.toHexString(rip));
        assertEquals(RunState.PAUSED, target.runState());
    }

    /** Snapshots store these records as JSON (Jackson): a saved state survives that unchanged. */
    @Test
    void savedStateSurvivesAJsonRoundTrip() throws Exception {
        VirtualMachine vm = vms.counting("json", 1);
        vm.pause();
        VcpuState vcpu = vm.vcpus().getFirst().saveState();
        VmArchState arch = vm.saveState();
        ObjectMapper json = new ObjectMapper();
        String text = json.writeValueAsString(vcpu);
        assertEquals(vcpu, json.readValue(text, VcpuState.class));
        assertEquals(arch, json.readValue(json.writeValueAsString(arch), VmArchState.class));
        assertTrue(text.contains("\"rip\":"), text.substring(0, Math.min(200, text.length())));
    }

    private static VcpuState withoutMsrs(VcpuState s) {
        return new VcpuState(s.cpuid(), s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(), s.debugRegs(),
                s.lapic(), List.of(), s.events(), s.tscKhz());
    }

    private static PitChannelState withoutLoadTime(PitChannelState c) {
        return new PitChannelState(c.count(), c.latchedCount(), c.countLatched(), c.statusLatched(), c.status(),
                c.readState(), c.writeState(), c.writeLatch(), c.rwMode(), c.mode(), c.bcd(), c.gate(), 0);
    }
}
