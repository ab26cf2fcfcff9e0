package dev.thaw.kvm;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.state.VmArchState;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A KVM VM: guest memory slots, vCPUs each run on their own platform thread, the in-kernel irqchip
 * (and PIT). Thread-safe. {@link #close()} stops the vCPUs (bounded waits) and frees memory, vCPU fds
 * and the VM fd. What the runtime SPI does not name (memory added slot by slot, vCPU set-up before the
 * first run, the ioctl-level vCPU accessors) is here for the KVM bundle and its tests.
 *
 * <p>How KVM does what the SPI names: each vCPU thread runs KVM_RUN in a loop; port I/O and MMIO exits
 * go to the {@code IoHandler}; HLT without a way to wake, SHUTDOWN, INTERNAL_ERROR, FAIL_ENTRY,
 * SYSTEM_EVENT, an unknown exit or a failing handler end the VM. A pause lets a vCPU that exited for
 * port I/O or MMIO complete it first (KVM_RUN with immediate_exit), so no instruction is left half done.
 */
@ProviderType
public interface VirtualMachine extends dev.thaw.api.runtime.VirtualMachine {

    @Override
    default String runtime() {
        return KvmRuntimeName.NAME;
    }

    /**
     * Maps {@code size} bytes of anonymous memory (MAP_PRIVATE | MAP_NORESERVE: nothing is committed
     * until touched) and registers it as a new slot at guest physical {@code guestAddress}. Both must be
     * page aligned and the range must not overlap another region. Unmapped when the VM closes.
     */
    GuestMemoryRegion addMemory(long guestAddress, long size);

    /**
     * Creates {@code count} more vCPUs (only before {@link #start}), each with the CPUID of
     * KVM_GET_SUPPORTED_CPUID carrying its own APIC ID (leaf 1 EBX[31:24], leaves 0xB/0x1F EDX,
     * leaf 0x8000001E EAX), then calls {@code setup} on each. The first call creates the in-kernel
     * irqchip (and PIT) first, unless an IRQ line or VM state call did already.
     */
    List<Vcpu> createVcpus(int count, VcpuSetup setup);

    /** KVM's reset state, as {@link VcpuSetup#none()} leaves it. */
    @Override
    default List<Vcpu> createVcpus(int count) {
        return createVcpus(count, VcpuSetup.none());
    }

    @Override
    List<Vcpu> vcpus();

    /** KVM_IRQ_LINE: drives interrupt line (GSI) {@code irq} of the in-kernel PICs and IOAPIC. */
    void setIrqLine(int irq, boolean level);

    @Override
    default void setInterruptLine(int gsi, boolean asserted) {
        setIrqLine(gsi, asserted);
    }

    /** The in-kernel devices' state: PIT (if created), kvmclock, both PICs, IOAPIC. Only while not running. */
    VmArchState saveArchState();

    /** Restores what {@link #saveArchState()} returned, in the order KVM requires. Only while not running. */
    void restoreArchState(VmArchState state);

    @Override
    default VmArchState saveState() {
        return saveArchState();
    }

    @Override
    default void restoreState(VmArchState state) {
        restoreArchState(state);
    }
}
