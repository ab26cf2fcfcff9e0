package dev.thaw.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.testing.RequiresKvm;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every state item of a vCPU that ran reads back as written through its own ioctl, and so does the
 * in-kernel PIT. (The SPI's whole-state round trips, on every runtime, are in thaw-runtime-contract.)
 */
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
    void everyVcpuStateItemAndThePitRoundTripOnAVcpuThatRan() throws Exception {
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

        VmArchState arch = vm.saveArchState();
        vm.restoreArchState(arch);
        VmArchState archAgain = vm.saveArchState();
        assertEquals(arch.pit().flags(), archAgain.pit().flags());
        for (int i = 0; i < 3; i++) {
            // KVM_SET_PIT2 reloads each counter, stamping a new count_load_time.
            assertEquals(withoutLoadTime(arch.pit().channels().get(i)),
                    withoutLoadTime(archAgain.pit().channels().get(i)), "PIT channel " + i);
        }

        int before = TestVms.counter(vm);
        vm.resume();
        TestVms.await("the guest runs on after its state was written back", KvmFixture.WAIT,
                () -> TestVms.counter(vm) > before + 1000);
        System.out.printf("%d saveable MSRs: %s%n", msrs.size(),
                msrs.stream().map(m -> Long.toHexString(m.index())).toList());
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

    private static PitChannelState withoutLoadTime(PitChannelState c) {
        return new PitChannelState(c.count(), c.latchedCount(), c.countLatched(), c.statusLatched(), c.status(),
                c.readState(), c.writeState(), c.writeLatch(), c.rwMode(), c.mode(), c.bcd(), c.gate(), 0);
    }
}
