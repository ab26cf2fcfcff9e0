package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.api.device.Device;
import dev.thaw.api.device.PortRange;
import dev.thaw.api.snapshot.DeviceState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Device states by version, at the codec: a device's own version restores as it is, an older one the
 * device restores is brought up to date by the device first, and any other is refused naming the device,
 * the state's version and the versions the device restores.
 */
class MachineStateCodecTest {

    /**
     * A one-port register device at state version 3, as a third party might evolve one: version 1 held
     * {@code value}, version 2 renamed it {@code register}, version 3 added a count of {@code writes}. It
     * restores versions 2 and 3.
     */
    static final class Register implements Device<Register.State> {

        record State(int register, int writes) {}

        int register;
        int writes;
        final List<Integer> upgradedFrom = new ArrayList<>();

        @Override
        public List<PortRange> ports() {
            return List.of(new PortRange(0x80, 1));
        }

        @Override
        public long read(int port, int size) {
            return register;
        }

        @Override
        public void write(int port, int size, long value) {
            register = (int) value;
            writes++;
        }

        @Override
        public Class<State> stateType() {
            return State.class;
        }

        @Override
        public int stateVersion() {
            return 3;
        }

        @Override
        public int oldestStateVersion() {
            return 2;
        }

        @Override
        public Map<String, Object> upgradeState(int version, Map<String, Object> state) {
            upgradedFrom.add(version);
            Map<String, Object> up = new HashMap<>(state);
            up.put("writes", 0); // version 2 did not count them
            return up;
        }

        @Override
        public State saveState() {
            return new State(register, writes);
        }

        @Override
        public void restoreState(State state) {
            register = state.register();
            writes = state.writes();
        }
    }

    final MachineStateCodec codec = new MachineStateCodec();

    @Test
    void aStateOfTheDevicesVersionRoundTrips() {
        Register saved = new Register();
        saved.write(0x80, 1, 42);
        List<DeviceState> states = codec.saveDevices(Map.of("register", saved));
        assertEquals(List.of(new DeviceState("register", 3, Map.of("register", 42, "writes", 1))), states);
        Register restored = new Register();
        codec.restoreDevices(states, Map.of("register", restored));
        assertEquals(42, restored.register);
        assertEquals(1, restored.writes);
        assertEquals(List.of(), restored.upgradedFrom);
    }

    @Test
    void anOlderStateTheDeviceRestoresIsBroughtUpToDateByIt() {
        Register restored = new Register();
        codec.restoreDevices(List.of(new DeviceState("register", 2, Map.of("register", 7))), Map.of("register", restored));
        assertEquals(7, restored.register);
        assertEquals(0, restored.writes);
        assertEquals(List.of(2), restored.upgradedFrom);
    }

    @Test
    void aStateOfAVersionTheDeviceDoesNotRestoreIsRefusedNamingBothVersions() {
        IllegalArgumentException newer = assertThrows(IllegalArgumentException.class, () -> codec.restoreDevices(
                List.of(new DeviceState("register", 4, Map.of("register", 7, "writes", 1, "parity", 0))),
                Map.of("register", new Register())));
        assertEquals("the register device state is version 4, newer than the register device here restores (versions 2 to 3)",
                newer.getMessage());
        IllegalArgumentException older = assertThrows(IllegalArgumentException.class, () -> codec.restoreDevices(
                List.of(new DeviceState("register", Map.of("value", 7))), Map.of("register", new Register())));
        assertEquals("the register device state is version 1, older than the register device here restores (versions 2 to 3)",
                older.getMessage());
    }
}
