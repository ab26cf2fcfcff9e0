package dev.thaw.api.runtime;

import dev.thaw.api.state.VmArchState;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A VM of some runtime: guest memory, vCPUs each run on their own host thread, the interrupt controllers
 * (PICs, IOAPIC, a local APIC per vCPU). Thread-safe. {@link #close()} stops the vCPUs (bounded waits) and
 * frees memory and everything else the VM holds.
 */
@ProviderType
public interface VirtualMachine extends AutoCloseable {

    /** Key of {@link #counters()}: guest instructions executed, summed over the vCPUs. */
    String INSTRUCTIONS = "instructions";

    /**
     * Key of {@link #counters()}: invalid-opcode exceptions (#UD) the runtime raised in the guest because it
     * does not implement an instruction the guest ran (not the guest's own invalid opcodes), summed over the
     * vCPUs. Anything but 0 means the guest ran into a gap of the runtime, not of its own making.
     */
    String UNIMPLEMENTED_OPCODES = "unimplementedOpcodes";

    String name();

    /** The runtime that made it ({@link VcpuRuntime#name()}). */
    String runtime();

    /** Its memory regions, in the order of its {@link VmSpec}. */
    List<GuestMemoryRegion> memory();

    /** The host bytes behind guest physical {@code [guestAddress, guestAddress + length)}, within one region. */
    MemorySegment guestMemory(long guestAddress, long length);

    /**
     * Creates {@code count} more vCPUs (only before {@link #start}), with indexes following the ones made
     * before, each in the runtime's reset state with a CPUID carrying its own APIC ID.
     */
    List<? extends Vcpu> createVcpus(int count);

    List<? extends Vcpu> vcpus();

    /**
     * Starts one host thread per vCPU ({@code vcpu-<name>-<i>}). Port I/O and MMIO outside RAM and the
     * interrupt controllers go to {@code io}; anything that ends the VM (a halt nothing can wake, a
     * shutdown, an error of the guest or the runtime, a failing handler) stops every vCPU, logs a one-line
     * reason and a register dump, and is reported once to {@code listener}. Returns once every vCPU thread
     * is ready to be paused.
     */
    void start(IoHandler io, ExitListener listener);

    /**
     * Stops every vCPU at an instruction boundary and returns once all are parked, with no I/O half done.
     * Idempotent while paused.
     *
     * @throws IllegalStateException when the VM is not running (not started, ended or closed)
     * @throws VcpuRuntimeException when a vCPU does not park within a bounded time, or the VM ended meanwhile
     */
    void pause();

    /** Lets the parked vCPUs run again. */
    void resume();

    /** Stops the vCPU threads with bounded waits. May be called from an {@link IoHandler}. */
    void stop();

    RunState runState();

    /** Why the VM ended, once it has. */
    Optional<VmExit> exit();

    /** Waits up to {@code timeout} for the VM to end. */
    Optional<VmExit> awaitExit(Duration timeout) throws InterruptedException;

    /**
     * The runtime's own counters of this VM by name, summed over its vCPUs, in a stable order: the keys this
     * interface names ({@link #INSTRUCTIONS}, {@link #UNIMPLEMENTED_OPCODES}) where the runtime counts them,
     * and any of its own. Empty for a runtime that counts nothing (KVM runs the guest on the host CPU). Any
     * thread may read them at any time: while the vCPUs run each figure is approximately current (read
     * without stopping them), once they have stopped it is final, also after {@link #close()}.
     */
    default Map<String, Long> counters() {
        return Map.of();
    }

    /** Drives interrupt line (GSI) {@code gsi} of the VM's PICs and IOAPIC: asserted or not. */
    void setInterruptLine(int gsi, boolean asserted);

    /**
     * The index of the vCPU that host thread {@code tid} (a Linux thread id, as userfaultfd reports the
     * faulting thread) runs now, or -1 if it runs none of this VM's vCPUs.
     */
    int vcpuOfThread(int tid);

    /** The VM-wide state outside the vCPUs: PICs, IOAPIC, clock (and a PIT where there is one). Only while not running. */
    VmArchState saveState();

    /**
     * Restores what {@link #saveState()} returned, on this or another runtime. Only while not running.
     *
     * @throws VcpuRuntimeException when some part cannot be carried over (the message says which)
     */
    void restoreState(VmArchState state);

    /** Stops the vCPUs and releases everything. Idempotent. Not from an {@link IoHandler} (use {@link #stop()} there). */
    @Override
    void close();
}
