package dev.thaw.api.state;

/**
 * One channel of the in-kernel i8254 PIT ({@code struct kvm_pit_channel_state}).
 *
 * @param countLoadTime host monotonic time (ns) of the last counter load; KVM sets it anew on restore
 */
public record PitChannelState(
        long count, int latchedCount, int countLatched, int statusLatched, int status,
        int readState, int writeState, int writeLatch, int rwMode, int mode, int bcd, int gate,
        long countLoadTime) {}
