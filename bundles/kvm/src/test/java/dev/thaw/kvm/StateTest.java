package dev.thaw.kvm;

import dev.thaw.api.runtime.RunState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.kvm.TestVms.Exits;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.testing.RequiresKvm;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every state item of a vCPU that ran, and of its VM, reads back as written. */
@RequiresKvm
@Timeout(60)
class StateTest {

    /** IA32_TSC counts while we look: it is compared within {@link #TSC_TOLERANCE}, not for equality. */
    private static final long MSR_IA32_TSC = 0x10;
    private static final long TSC_TOLERANCE = 10_000_000_000L;

    @RegisterExtension
    static final KvmFixture kvm = new KvmFixture();

    private static <T> void roundTrip(String item, Supplier<T> get, Consumer<T> set) {
        T before = get.get();
        set.accept(before);
        assertEquals(before, get.get(), item + " get -> set -> get");
    }

    @Test
    void everyVcpuAndVmStateItemRoundTripsOnAVcpuThatRan() throws Exception {
        VirtualMachine vm = kvm.counting("state", 1);
        Vcpu v = vm.vcpus().getFirst();
        vm.pause();

        roundTrip("cpuid", v::cpuid, v::setCpuid);
        roundTrip("mp state", v::mpState, v::setMpState);
        roundTrip("regs", v::regs, v::setRegs);
        roundTrip("sregs", v::sregs, v::setSregs);
        roundTrip("fpu", v::fpu, v::setFpu);
        roundTrip("xsave", v::xsave, v::setXsave);
        roundTrip("xcrs", v::xcrs, v::setXcrs);
        roundTrip("debug regs", v::debugRegs, v::setDebugRegs);
        roundTrip("lapic", v::lapic, v::setLapic);
        roundTrip("vcpu events", v::vcpuEvents, v::setVcpuEvents);
        List<MsrEntry> msrs = v.msrs();
        assertFalse(msrs.isEmpty());
        v.setMsrs(msrs);
        assertMsrsEqual(msrs, v.msrs());

        VcpuState saved = v.saveState();
        v.restoreState(saved);
        VcpuState again = v.saveState();
        assertMsrsEqual(saved.msrs(), again.msrs());
        assertEquals(withoutMsrs(saved), withoutMsrs(again));
        assertEquals(0x11, saved.sregs().cr0());
        assertTrue(saved.xsave().region().length >= 4096);

        VmArchState arch = vm.saveArchState();
        vm.restoreArchState(arch);
        VmArchState archAgain = vm.saveArchState();
        assertEquals(arch.picMaster(), archAgain.picMaster());
        assertEquals(arch.picSlave(), archAgain.picSlave());
        assertEquals(arch.ioapic(), archAgain.ioapic());
        assertEquals(arch.pit().flags(), archAgain.pit().flags());
        for (int i = 0; i < 3; i++) {
            // KVM_SET_PIT2 reloads each counter, stamping a new count_load_time.
            assertEquals(withoutLoadTime(arch.pit().channels().get(i)),
                    withoutLoadTime(archAgain.pit().channels().get(i)), "PIT channel " + i);
        }
        long drift = archAgain.clock().clock() - arch.clock().clock();
        assertTrue(drift >= 0 && drift < 1_000_000_000L, "kvmclock restored (moved " + drift + " ns)");

        int before = TestVms.counter(vm);
        vm.resume();
        TestVms.await("the guest runs on after its state was written back", KvmFixture.WAIT,
                () -> TestVms.counter(vm) > before + 1000);
        System.out.printf("%d saveable MSRs: %s%n", msrs.size(),
                msrs.stream().map(m -> Long.toHexString(m.index())).toList());
    }

    /** The real use: state and memory taken from one VM make a fresh VM continue where the first stopped. */
    @Test
    void savedStateAndMemoryResumeTheGuestInAFreshVm() throws Exception {
        VirtualMachine source = kvm.counting("source", 1);
        TestVms.await("counting", KvmFixture.WAIT, () -> TestVms.counter(source) > 5000);
        source.pause();
        KvmFixture.Saved saved = kvm.save(source);
        source.close();
        VirtualMachine target = kvm.restore("target", saved);
        Vcpu v = target.vcpus().getFirst();
        assertEquals(saved.vcpus().getFirst().regs(), v.regs());
        assertEquals(saved.counter(), TestVms.counter(target));
        target.start(new TestVms.Recorder(), new Exits());
        TestVms.await("the restored guest counting on", KvmFixture.WAIT,
                () -> TestVms.counter(target) > saved.counter() + 5000);
        target.pause();
        long rip = v.regs().rip();
        assertTrue(rip == Guests.ENTRY || rip == Guests.ENTRY + 6, "rip 0x" + Long.toHexString(rip));
        assertEquals(RunState.PAUSED, target.runState());
    }

    /** Snapshots will store these records as JSON (Jackson): a saved state survives that unchanged. */
    @Test
    void savedStateSurvivesAJsonRoundTrip() throws Exception {
        VirtualMachine vm = kvm.counting("json", 1);
        vm.pause();
        VcpuState vcpu = vm.vcpus().getFirst().saveState();
        VmArchState arch = vm.saveArchState();
        ObjectMapper json = new ObjectMapper();
        String text = json.writeValueAsString(vcpu);
        assertEquals(vcpu, json.readValue(text, VcpuState.class));
        assertEquals(arch, json.readValue(json.writeValueAsString(arch), VmArchState.class));
        assertTrue(text.contains("\"rip\":"), text.substring(0, Math.min(200, text.length())));
    }

    private static void assertMsrsEqual(List<MsrEntry> expected, List<MsrEntry> actual) {
        assertEquals(expected.stream().map(MsrEntry::index).toList(), actual.stream().map(MsrEntry::index).toList());
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < expected.size(); i++) {
            MsrEntry e = expected.get(i);
            MsrEntry a = actual.get(i);
            if (e.index() == MSR_IA32_TSC) {
                long delta = a.data() - e.data();
                if (delta < 0 || delta > TSC_TOLERANCE) {
                    differences.add("TSC moved by " + delta);
                }
            } else if (e.data() != a.data()) {
                differences.add(e + " became " + a);
            }
        }
        assertEquals(List.of(), differences);
    }

    private static VcpuState withoutMsrs(VcpuState s) {
        return new VcpuState(s.cpuid(), s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(), s.debugRegs(),
                s.lapic(), List.of(), s.events());
    }

    private static PitChannelState withoutLoadTime(PitChannelState c) {
        return new PitChannelState(c.count(), c.latchedCount(), c.countLatched(), c.statusLatched(), c.status(),
                c.readState(), c.writeState(), c.writeLatch(), c.rwMode(), c.mode(), c.bcd(), c.gate(), 0);
    }
}
