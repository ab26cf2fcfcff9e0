package dev.thaw.api.snapshot;

import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.api.vm.BootRequest;
import java.util.List;
import java.util.Objects;

/**
 * Everything but guest memory that a VM needs to continue: stored as JSON in a Thaw snapshot.
 *
 * @param guest what the VM runs, e.g. {@code thaw-test-guest}, with the image digest
 * @param boot how the VM was booted (memory size, vCPUs, workload and its parameters)
 * @param memory the RAM regions, in the order the snapshot file stores them
 * @param vm KVM's VM-wide state (irqchip, PIT, clock)
 * @param vcpus each vCPU's state, by index
 * @param devices each emulated device's state
 * @param session what the host knows of the guest's session (console history, invocations)
 * @param runtime the vCPU runtime the VM ran on when it was saved ({@code kvm}, {@code emulated}); snapshots
 *     written before runtimes were named ran on KVM, and read as {@code kvm}
 */
public record MachineState(
        GuestInfo guest,
        BootRequest boot,
        List<RegionLayout> memory,
        VmArchState vm,
        List<VcpuState> vcpus,
        List<DeviceState> devices,
        SessionState session,
        String runtime) {

    /** What snapshots written before runtimes were named ran on. */
    public static final String RUNTIME_BEFORE_NAMES = "kvm";

    public MachineState {
        Objects.requireNonNull(guest, "guest");
        Objects.requireNonNull(boot, "boot");
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(session, "session");
        memory = List.copyOf(memory);
        vcpus = List.copyOf(vcpus);
        devices = List.copyOf(devices);
        if (runtime == null || runtime.isBlank()) {
            runtime = RUNTIME_BEFORE_NAMES;
        }
    }

    /** A state saved on KVM, the runtime of snapshots before runtimes were named. */
    public MachineState(GuestInfo guest, BootRequest boot, List<RegionLayout> memory, VmArchState vm, List<VcpuState> vcpus,
            List<DeviceState> devices, SessionState session) {
        this(guest, boot, memory, vm, vcpus, devices, session, RUNTIME_BEFORE_NAMES);
    }
}
