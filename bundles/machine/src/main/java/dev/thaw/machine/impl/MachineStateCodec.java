package dev.thaw.machine.impl;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.device.Device;
import dev.thaw.api.snapshot.DeviceState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns each device's own state record into a JSON object tree with its version, and back into the
 * device's record type: a state of the device's version as it is, an older one the device restores
 * after the device brought it up to date, any other refused in one line. The records made from a saved
 * state are kept for the next restore of the same state: the snapshot format hands out the same parsed
 * state for the same snapshot (its state cache), and converting the trees again each time cost about
 * 0.15 ms on the path to the resumed VM (the state's JSON then parsed a second time, in effect).
 */
final class MachineStateCodec {

    private static final TypeReference<Map<String, Object>> TREE = new TypeReference<>() {};
    /** Device states converted lately; a restore of a snapshot restores a handful of devices. */
    static final int MAX_CONVERTED = 32;

    /** A saved device state, by identity, and the record type and version it was converted to. */
    private record Converted(DeviceState saved, Class<? extends Record> type, int version) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Converted c && c.saved == saved && c.type == type && c.version == version;
        }

        @Override
        public int hashCode() {
            return (System.identityHashCode(saved) * 31 + type.hashCode()) * 31 + version;
        }
    }

    private final ObjectMapper json = new ObjectMapper();
    /** Least recently used first; guarded by itself. */
    private final Map<Converted, Record> converted = new LinkedHashMap<>(MAX_CONVERTED, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Converted, Record> eldest) {
            return size() > MAX_CONVERTED;
        }
    };

    List<DeviceState> saveDevices(Map<String, Device<?>> devices) {
        List<DeviceState> states = new ArrayList<>();
        devices.forEach((type, device) -> states.add(
                new DeviceState(type, device.stateVersion(), json.convertValue(device.saveState(), TREE))));
        return states;
    }

    /**
     * Gives each device its saved state. Every saved device must exist here and every device here must
     * have been saved: a VM restored with a different set of devices would not continue exactly.
     */
    void restoreDevices(List<DeviceState> states, Map<String, Device<?>> devices) {
        Set<String> restored = new HashSet<>();
        for (DeviceState s : states) {
            Device<?> d = devices.get(s.type());
            if (d == null) {
                throw new IllegalArgumentException("the snapshot has a " + s.type() + " device, which is not installed here");
            }
            if (!restored.add(s.type())) {
                throw new IllegalArgumentException("the snapshot has two " + s.type() + " devices");
            }
            restore(d, s);
        }
        for (String type : devices.keySet()) {
            if (!restored.contains(type)) {
                throw new IllegalArgumentException("the snapshot has no state for the " + type + " device installed here");
            }
        }
    }

    private <S extends Record> void restore(Device<S> device, DeviceState saved) {
        device.restoreState(record(saved, device));
    }

    /**
     * The device state as the device's record: converted from its tree (brought up to date by the device
     * first where it is of an older version the device restores), or the record converted before from this
     * state for a device of the same type and version.
     */
    private <S extends Record> S record(DeviceState saved, Device<S> device) {
        Class<S> type = device.stateType();
        int version = device.stateVersion();
        int oldest = device.oldestStateVersion();
        if (saved.version() > version || saved.version() < oldest) {
            throw new IllegalArgumentException("the " + saved.type() + " device state is version " + saved.version() + ", "
                    + (saved.version() > version ? "newer" : "older") + " than the " + saved.type() + " device here restores ("
                    + (oldest == version ? "version " + version : "versions " + oldest + " to " + version) + ")");
        }
        Converted key = new Converted(saved, type, version);
        synchronized (converted) {
            Record r = converted.get(key);
            if (r != null) {
                return type.cast(r);
            }
        }
        Map<String, Object> tree = saved.state();
        if (saved.version() < version) {
            try {
                tree = device.upgradeState(saved.version(), tree);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the " + saved.type() + " device state of version " + saved.version()
                        + " cannot be brought to version " + version + ": " + e.getMessage(), e);
            }
        }
        S r;
        try {
            r = json.convertValue(tree, type);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the " + saved.type() + " device state (version " + saved.version()
                    + ") is malformed: " + e.getMessage(), e);
        }
        synchronized (converted) {
            converted.put(key, r);
        }
        return r;
    }
}
