package dev.thaw.kvm;

import static dev.thaw.testing.MsrAssertions.assertMsrsEqual;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.testing.Await;
import dev.thaw.testing.RequiresKvm;
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
        Await.until("the guest runs on after its state was written back", KvmFixture.WAIT,
                () -> TestVms.counter(vm) > before + 1000);
        System.out.printf("%d saveable MSRs: %s%n", msrs.size(),
                msrs.stream().map(m -> Long.toHexString(m.index())).toList());
    }

    private static PitChannelState withoutLoadTime(PitChannelState c) {
        return new PitChannelState(c.count(), c.latchedCount(), c.countLatched(), c.statusLatched(), c.status(),
                c.readState(), c.writeState(), c.writeLatch(), c.rwMode(), c.mode(), c.bcd(), c.gate(), 0);
    }
}
