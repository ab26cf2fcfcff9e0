package dev.thaw.api.state;

import java.util.Objects;

/**
 * Pending or injected exceptions, interrupts, NMIs and SMIs, and the interrupt shadow
 * ({@code struct kvm_vcpu_events}).
 *
 * @param flags {@code KVM_VCPUEVENT_VALID_*}: which optional parts KVM filled in and should take back
 */
public record VcpuEvents(
        ExceptionState exception, InterruptState interrupt, NmiState nmi,
        long sipiVector, long flags, SmiState smi,
        int tripleFaultPending, int exceptionHasPayload, long exceptionPayload) {

    public VcpuEvents {
        Objects.requireNonNull(exception, "exception");
        Objects.requireNonNull(interrupt, "interrupt");
        Objects.requireNonNull(nmi, "nmi");
        Objects.requireNonNull(smi, "smi");
    }

    /** The {@code exception} part. */
    public record ExceptionState(int injected, int nr, int hasErrorCode, int pending, long errorCode) {}

    /** The {@code interrupt} part; {@code shadow} holds {@code KVM_X86_SHADOW_INT_*}. */
    public record InterruptState(int injected, int nr, int soft, int shadow) {}

    /** The {@code nmi} part. */
    public record NmiState(int injected, int pending, int masked) {}

    /** The {@code smi} part. */
    public record SmiState(int smm, int pending, int smmInsideNmi, int latchedInit) {}
}
