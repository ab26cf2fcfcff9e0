package dev.thaw.emulated.impl;

import dev.thaw.api.runtime.VcpuRuntimeException;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.VcpuEvents;
import dev.thaw.api.state.VcpuState;
import java.util.Set;

/**
 * What of a vCPU state saved elsewhere (on KVM, say) the emulated runtime cannot carry over: it models no
 * NMI and no SMM, and runs vCPUs that are runnable, halted, or waiting for INIT/SIPI. Such a state is
 * refused with one line naming the vCPU and the piece, rather than restored into a VM that would not
 * continue as the saved one would.
 */
final class StateCarryOver {

    private static final Set<Long> MP_STATES = Set.of(MpState.RUNNABLE.state(), MpState.HALTED.state(),
            MpState.UNINITIALIZED.state(), MpState.INIT_RECEIVED.state(), MpState.SIPI_RECEIVED.state());

    private StateCarryOver() {}

    static void check(int vcpu, VcpuState state) {
        VcpuEvents e = state.events();
        String why = null;
        if (e.nmi().injected() != 0 || e.nmi().pending() != 0) {
            why = "an NMI in flight";
        } else if (e.smi().smm() != 0 || e.smi().pending() != 0) {
            why = "system management mode state (SMM or a pending SMI)";
        } else if (!MP_STATES.contains(state.mpState().state())) {
            why = "MP state " + state.mpState().state();
        }
        if (why != null) {
            throw new VcpuRuntimeException("vCPU " + vcpu + " of the snapshot has " + why
                    + ", which the emulated runtime does not model; restore it on KVM");
        }
    }
}
