package dev.thaw.machine.impl;

import dev.thaw.api.device.Device;
import dev.thaw.api.device.PortRange;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The port I/O bus of one VM: routes each guest {@code in}/{@code out} to the device that owns the port.
 * Ports nobody owns read as all ones and ignore writes, as on a PC's ISA bus.
 */
final class PortBus {

    private static final Logger LOG = LoggerFactory.getLogger(PortBus.class);

    private record Mapping(PortRange range, Device<?> device) {}

    private final List<Mapping> mappings = new ArrayList<>();
    private final boolean[] unclaimedSeen = new boolean[0x10000];

    /** Adds a device; its ports must not overlap another device's. */
    void attach(Device<?> device) {
        for (PortRange r : device.ports()) {
            for (Mapping m : mappings) {
                if (m.range().overlaps(r)) {
                    throw new IllegalArgumentException("ports " + hex(r) + " of " + device + " overlap " + hex(m.range()) + " of " + m.device());
                }
            }
        }
        for (PortRange r : device.ports()) {
            mappings.add(new Mapping(r, device));
        }
    }

    long read(int port, int size) {
        Device<?> d = owner(port);
        if (d == null) {
            return size >= 4 ? 0xffff_ffffL : (1L << (size * 8)) - 1;
        }
        return d.read(port, size);
    }

    void write(int port, int size, long value) {
        Device<?> d = owner(port);
        if (d != null) {
            d.write(port, size, value);
        }
    }

    private Device<?> owner(int port) {
        for (Mapping m : mappings) {
            if (m.range().contains(port)) {
                return m.device();
            }
        }
        if (!unclaimedSeen[port & 0xffff]) {
            unclaimedSeen[port & 0xffff] = true; // once per port: a guest probing in a loop must not flood the log
            LOG.debug("guest accessed port {} that no device owns", String.format("0x%x", port));
        }
        return null;
    }

    private static String hex(PortRange r) {
        return String.format("0x%x-0x%x", r.base(), r.base() + r.length() - 1);
    }
}
