package dev.thaw.api.state;

/**
 * The VM's kvmclock ({@code struct kvm_clock_data}).
 *
 * @param clock guest kvmclock value in nanoseconds
 * @param flags {@code KVM_CLOCK_*}: which of the following values KVM filled in
 * @param realtime host CLOCK_REALTIME in ns when {@code clock} was read (with {@code KVM_CLOCK_REALTIME})
 * @param hostTsc host TSC when {@code clock} was read (with {@code KVM_CLOCK_HOST_TSC})
 */
public record ClockData(long clock, long flags, long realtime, long hostTsc) {}
