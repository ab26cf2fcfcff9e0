package dev.thaw.machine.impl;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.device.Device;
import dev.thaw.api.snapshot.DeviceState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Turns each device's own state record into a JSON object tree and back. */
final class MachineStateCodec {

    private static final TypeReference<Map<String, Object>> TREE = new TypeReference<>() {};

    private final ObjectMapper json = new ObjectMapper();

    List<DeviceState> saveDevices(Map<String, Device> devices) {
        List<DeviceState> states = new ArrayList<>();
        devices.forEach((type, device) -> states.add(new DeviceState(type, json.convertValue(device.saveState(), TREE))));
        return states;
    }

    /**
     * Gives each device its saved state. Every saved device must exist here and every device here must
     * have been saved: a VM restored with a different set of devices would not continue exactly.
     */
    void restoreDevices(List<DeviceState> states, Map<String, Device> devices) {
        Set<String> restored = new HashSet<>();
        for (DeviceState s : states) {
            Device d = devices.get(s.type());
            if (d == null) {
                throw new IllegalArgumentException("the snapshot has a " + s.type() + " device, which is not installed here");
            }
            if (!restored.add(s.type())) {
                throw new IllegalArgumentException("the snapshot has two " + s.type() + " devices");
            }
            Record state;
            try {
                state = json.convertValue(s.state(), d.stateType());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the " + s.type() + " device state is malformed: " + e.getMessage(), e);
            }
            d.restoreState(state);
        }
        for (String type : devices.keySet()) {
            if (!restored.contains(type)) {
                throw new IllegalArgumentException("the snapshot has no state for the " + type + " device installed here");
            }
        }
    }
}
