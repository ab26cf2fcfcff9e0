package dev.thaw.kvm;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.ExitListener;
import dev.thaw.api.runtime.RunState;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.api.state.VmArchState;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A KVM VM: guest memory slots, vCPUs each run on their own platform thread, the in-kernel irqchip
 * (and PIT). Thread-safe. {@link #close()} stops the vCPUs (bounded waits) and frees memory, vCPU fds
 * and the VM fd. What the runtime SPI does not name (memory added slot by slot, vCPU set-up before the
 * first run, the ioctl-level vCPU accessors) is here for the KVM bundle and its tests.
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

    /** The regions added so far, in order. */
    List<GuestMemoryRegion> memory();

    /** The host bytes behind guest physical {@code [guestAddress, guestAddress + length)}, within one region. */
    MemorySegment guestMemory(long guestAddress, long length);

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

    /**
     * Starts one platform thread per vCPU ({@code vcpu-<name>-<i>}) running KVM_RUN in a loop. I/O and
     * MMIO exits go to {@code io}; any exit that ends the VM (HLT without a way to wake, SHUTDOWN,
     * INTERNAL_ERROR, FAIL_ENTRY, SYSTEM_EVENT, an unknown exit, a failing handler) stops every vCPU,
     * logs a one-line reason and a register dump, and is reported once to {@code listener}. Returns once
     * every vCPU thread is ready to be paused.
     */
    void start(IoHandler io, ExitListener listener);

    /**
     * Stops every vCPU at an instruction boundary and returns once all are parked. A vCPU that had
     * exited for port I/O or MMIO first completes it (KVM_RUN with immediate_exit), so no instruction is
     * left half done in the state. Idempotent while paused.
     *
     * @throws KvmException when a vCPU does not park within a bounded time, or the VM ended meanwhile
     */
    void pause();

    /** Lets the parked vCPUs run again. */
    void resume();

    /** Stops the vCPU threads (completing pending I/O as {@link #pause()} does) with bounded waits. May be called from an {@link IoHandler}. */
    void stop();

    RunState runState();

    /** Why the VM ended, once it has. */
    Optional<VmExit> exit();

    /** Waits up to {@code timeout} for the VM to end. */
    Optional<VmExit> awaitExit(Duration timeout) throws InterruptedException;

    /** KVM_IRQ_LINE: drives interrupt line (GSI) {@code irq} of the in-kernel PICs and IOAPIC. */
    void setIrqLine(int irq, boolean level);

    @Override
    default void setInterruptLine(int gsi, boolean asserted) {
        setIrqLine(gsi, asserted);
    }

    /**
     * The index of the vCPU that thread {@code tid} (a Linux thread id, as userfaultfd reports the
     * faulting thread) runs now, or -1 if it runs none of this VM's vCPUs.
     */
    int vcpuOfThread(int tid);

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

    /** Stops the vCPUs and releases everything. Idempotent. Not from an {@link IoHandler} (use {@link #stop()} there). */
    @Override
    void close();
}
