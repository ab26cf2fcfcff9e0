package dev.thaw.api.state;

import java.util.List;

/** The in-kernel PIT's three channels and flags ({@code struct kvm_pit_state2}). */
public record PitState(List<PitChannelState> channels, long flags) {

    public static final int CHANNELS = 3;

    public PitState {
        channels = List.copyOf(channels);
        if (channels.size() != CHANNELS) {
            throw new IllegalArgumentException(channels.size() + " PIT channels, expected " + CHANNELS);
        }
    }
}
