package dev.thaw.api.snapshot;

import java.util.Map;

/**
 * One device's saved state.
 *
 * @param type the device type ({@link dev.thaw.api.device.DeviceProvider#type()})
 * @param version the version of the state's layout ({@link dev.thaw.api.device.Device#stateVersion()}) when it
 *     was saved; {@link dev.thaw.api.device.Device#FIRST_STATE_VERSION} for snapshots written before device
 *     states had versions
 * @param state the device's own state record as a JSON object tree (plain maps, lists and values)
 */
public record DeviceState(String type, int version, Map<String, Object> state) {

    public DeviceState {
        if (version < dev.thaw.api.device.Device.FIRST_STATE_VERSION) {
            throw new IllegalArgumentException("the " + type + " device state has version " + version
                    + "; versions start at " + dev.thaw.api.device.Device.FIRST_STATE_VERSION);
        }
        state = Map.copyOf(state);
    }

    /** A state of the first version, as snapshots written before device states had versions hold it. */
    public DeviceState(String type, Map<String, Object> state) {
        this(type, dev.thaw.api.device.Device.FIRST_STATE_VERSION, state);
    }
}
