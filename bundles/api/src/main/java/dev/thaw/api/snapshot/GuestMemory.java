package dev.thaw.api.snapshot;

import java.lang.foreign.MemorySegment;

/**
 * One region of a paused VM's memory, as the snapshot writer reads it.
 *
 * @param layout where the region lies in the guest
 * @param memory the host memory behind it, {@code layout.size()} bytes
 */
public record GuestMemory(RegionLayout layout, MemorySegment memory) {}
