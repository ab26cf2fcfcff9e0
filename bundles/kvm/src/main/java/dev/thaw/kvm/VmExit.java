package dev.thaw.kvm;

import java.util.Objects;

/**
 * Why a VM ended.
 *
 * @param kind the cause
 * @param vcpu the vCPU that ended it, or -1 when the host stopped it
 * @param reason one line, e.g. {@code vCPU 0: guest shut down (KVM_EXIT_SHUTDOWN, e.g. a triple fault)}
 * @param registerDump that vCPU's registers at the exit (rip, rsp, rflags, control registers, EFER,
 *     selectors, general registers); empty when the host stopped the VM
 * @param cause the exception behind {@link Kind#IO_HANDLER_FAILED} or {@link Kind#KVM_ERROR}, else null
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
        /** KVM_EXIT_HLT: the guest halted and nothing in the kernel will wake it. */
        HLT,
        /** KVM_EXIT_SHUTDOWN: triple fault or shutdown. */
        SHUTDOWN,
        /** KVM_EXIT_INTERNAL_ERROR, e.g. an instruction KVM could not emulate. */
        INTERNAL_ERROR,
        /** KVM_EXIT_FAIL_ENTRY: the hardware refused to enter the guest. */
        FAIL_ENTRY,
        /** KVM_EXIT_SYSTEM_EVENT: the guest asked for shutdown, reset or reported a crash. */
        SYSTEM_EVENT,
        /** An exit reason the run loop does not handle. */
        UNHANDLED_EXIT,
        /** The {@link IoHandler} threw. */
        IO_HANDLER_FAILED,
        /** A KVM ioctl failed in the run loop. */
        KVM_ERROR
    }
}
