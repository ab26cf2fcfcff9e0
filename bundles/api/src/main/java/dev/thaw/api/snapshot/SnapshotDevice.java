package dev.thaw.api.snapshot;

/**
 * One device state a snapshot file holds.
 *
 * @param name the device's name: QEMU's section id string (e.g. {@code timer}, {@code 0000:00:01.0/piix4_pm}),
 *     or the Thaw device type
 * @param instance its instance number among devices of that name
 * @param version the version of its state's layout, or -1 when the format does not say
 */
public record SnapshotDevice(String name, long instance, long version) {}
