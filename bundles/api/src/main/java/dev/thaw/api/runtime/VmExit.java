package dev.thaw.api.runtime;

import java.util.Objects;

/**
 * Why a VM ended.
 *
 * @param kind the cause
 * @param vcpu the vCPU that ended it, or -1 when the host stopped it
 * @param reason one line, e.g. {@code vCPU 0: guest shut down (triple fault)}
 * @param registerDump that vCPU's registers at the exit (rip, rsp, rflags, control registers, EFER,
 *     selectors, general registers); empty when the host stopped the VM
 * @param cause the exception behind {@link Kind#IO_HANDLER_FAILED} or {@link Kind#RUNTIME_ERROR}, else null
 */
public record VmExit(Kind kind, int vcpu, String reason, String registerDump, Throwable cause) {

    public VmExit {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(registerDump, "registerDump");
    }

    public enum Kind {
        /** {@link VirtualMachine#stop()} or {@link VirtualMachine#close()}. */
        STOPPED,
        /** The guest halted where nothing can wake it (HLT with interrupts off, say). */
        HALTED,
        /** The guest shut down: a triple fault, or a shutdown it asked for. */
        SHUTDOWN,
        /** The runtime could not run the guest on: an instruction or exit it cannot handle, a refused entry. */
        GUEST_ERROR,
        /** The {@link IoHandler} threw. */
        IO_HANDLER_FAILED,
        /** An operation of the runtime itself failed while running (an ioctl, say). */
        RUNTIME_ERROR
    }
}
