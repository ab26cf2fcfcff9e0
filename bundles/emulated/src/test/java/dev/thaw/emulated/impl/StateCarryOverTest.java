package dev.thaw.emulated.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.VcpuRuntimeException;
import dev.thaw.api.runtime.VmSpec;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.PitState;
import dev.thaw.api.state.VcpuEvents;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A state from another runtime restores where the emulated runtime can carry every piece of it, and is
 * refused with one line naming the piece where it cannot (an NMI in flight, SMM, a PIT).
 */
class StateCarryOverTest {

    static final VmSpec SPEC = new VmSpec("carry", List.of(new MemoryRange(0, 4L << 20)));

    @Test
    void aStateRoundTripsThroughAnotherVcpu() {
        try (EmulatedRuntime runtime = new EmulatedRuntime(); var a = runtime.createVm(SPEC); var b = runtime.createVm(SPEC)) {
            VcpuState saved = a.createVcpus(1).getFirst().saveState();
            var target = b.createVcpus(1).getFirst();
            target.restoreState(saved);
            // The TSC runs on between the two reads: everything else reads back as written.
            assertEquals(withoutTsc(saved), withoutTsc(target.saveState()));
            b.restoreState(a.saveState());
            assertEquals(a.saveState().ioapic(), b.saveState().ioapic());
        }
    }

    @Test
    void anNmiInFlightOrSmmIsRefusedNamingIt() {
        try (EmulatedRuntime runtime = new EmulatedRuntime(); var vm = runtime.createVm(SPEC)) {
            var vcpu = vm.createVcpus(1).getFirst();
            VcpuState s = vcpu.saveState();
            VcpuEvents e = s.events();
            VcpuEvents nmi = new VcpuEvents(e.exception(), e.interrupt(), new VcpuEvents.NmiState(0, 1, 0), e.sipiVector(),
                    e.flags(), e.smi(), e.tripleFaultPending(), e.exceptionHasPayload(), e.exceptionPayload());
            VcpuRuntimeException refused = assertThrows(VcpuRuntimeException.class, () -> vcpu.restoreState(with(s, nmi, s.mpState())));
            assertEquals("vCPU 0 of the snapshot has an NMI in flight, which the emulated runtime does not model; restore it on KVM",
                    refused.getMessage());
            VcpuEvents smm = new VcpuEvents(e.exception(), e.interrupt(), e.nmi(), e.sipiVector(), e.flags(),
                    new VcpuEvents.SmiState(1, 0, 0, 0), e.tripleFaultPending(), e.exceptionHasPayload(), e.exceptionPayload());
            assertTrue(assertThrows(VcpuRuntimeException.class, () -> vcpu.restoreState(with(s, smm, s.mpState())))
                    .getMessage().contains("system management mode"));
            assertTrue(assertThrows(VcpuRuntimeException.class, () -> vcpu.restoreState(with(s, e, new MpState(9))))
                    .getMessage().contains("MP state 9"));
        }
    }

    @Test
    void aPitIsRefused() {
        try (EmulatedRuntime runtime = new EmulatedRuntime(); var vm = runtime.createVm(SPEC)) {
            vm.createVcpus(1);
            VmArchState s = vm.saveState();
            PitChannelState channel = new PitChannelState(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            VmArchState withPit = new VmArchState(new PitState(List.of(channel, channel, channel), 0), s.clock(), s.picMaster(),
                    s.picSlave(), s.ioapic());
            assertTrue(assertThrows(VcpuRuntimeException.class, () -> vm.restoreState(withPit)).getMessage().contains("PIT"));
        }
    }

    private static VcpuState withoutTsc(VcpuState s) {
        return new VcpuState(s.cpuid(), s.mpState(), s.regs(), s.sregs(), s.xsave(), s.xcrs(), s.debugRegs(), s.lapic(),
                s.msrs().stream().filter(m -> m.index() != 0x10).toList(), s.events(), s.tscKhz());
    }

    private static VcpuState with(VcpuState s, VcpuEvents events, MpState mp) {
        return new VcpuState(s.cpuid(), mp, s.regs(), s.sregs(), s.xsave(), s.xcrs(), s.debugRegs(), s.lapic(), s.msrs(), events, s.tscKhz());
    }
}
