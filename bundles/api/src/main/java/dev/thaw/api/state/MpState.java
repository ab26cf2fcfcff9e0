package dev.thaw.api.state;

/** The vCPU's multiprocessing state ({@code struct kvm_mp_state}, {@code KVM_MP_STATE_*}). */
public record MpState(long state) {

    public static final MpState RUNNABLE = new MpState(0);
    public static final MpState UNINITIALIZED = new MpState(1);
    public static final MpState INIT_RECEIVED = new MpState(2);
    public static final MpState HALTED = new MpState(3);
    public static final MpState SIPI_RECEIVED = new MpState(4);
}
