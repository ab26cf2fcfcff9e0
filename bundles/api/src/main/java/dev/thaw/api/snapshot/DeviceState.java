package dev.thaw.api.snapshot;

import java.util.Map;

/**
 * One device's saved state.
 *
 * @param type the device type ({@link dev.thaw.api.device.DeviceProvider#type()})
 * @param state the device's own state record as a JSON object tree (plain maps, lists and values)
 */
public record DeviceState(String type, Map<String, Object> state) {

    public DeviceState {
        state = Map.copyOf(state);
    }
}
