package dev.thaw.devices.impl;

import dev.thaw.api.device.Device;
import dev.thaw.api.device.DeviceContext;
import dev.thaw.api.device.PortRange;
import java.util.List;

/** A write-only port through which the guest ends itself with an exit code (any access size). */
final class DebugExit implements Device<DebugExit.State> {

    /** The port keeps no state: a write ends the guest at once. */
    public record State() {}

    /** The version of {@link State}'s layout. */
    static final int STATE_VERSION = 1;

    private final PortRange ports;
    private final DeviceContext context;

    DebugExit(int port, DeviceContext context) {
        this.ports = new PortRange(port, 1);
        this.context = context;
    }

    @Override
    public List<PortRange> ports() {
        return List.of(ports);
    }

    @Override
    public long read(int port, int size) {
        return 0; // nothing to read; a guest probing the port sees zeros
    }

    @Override
    public Class<State> stateType() {
        return State.class;
    }

    @Override
    public int stateVersion() {
        return STATE_VERSION;
    }

    @Override
    public State saveState() {
        return new State();
    }

    @Override
    public void restoreState(State state) {
        // nothing to take back
    }

    @Override
    public void write(int port, int size, long value) {
        long mask = size >= 4 ? 0xffff_ffffL : (1L << (size * 8)) - 1;
        context.guestExit((int) (value & mask));
    }
}
