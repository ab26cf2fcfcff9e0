package dev.thaw.machine.impl;

import dev.thaw.api.vm.BootRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** The page through which the guest learns its parameters (layout in guest/README.md). */
final class BootParameters {

    static final long ADDRESS = 0x7000;
    static final long MAGIC = 0x544F4F4257414854L; // "THAWBOOT"
    static final int VERSION = 1;
    static final int MAX_REGIONS = 4;
    /** LAPIC timer initial count: periodic ticks of roughly a millisecond on this machine. */
    static final long TIMER_INITIAL_COUNT = 0x100000;

    private BootParameters() {}

    static byte[] encode(BootRequest request, List<MemoryLayout.Region> regions) {
        if (regions.size() > MAX_REGIONS) {
            throw new IllegalArgumentException("at most " + MAX_REGIONS + " RAM regions");
        }
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0x00, MAGIC);
        b.putLong(0x08, VERSION);
        b.putLong(0x10, request.vcpus());
        b.putLong(0x18, request.workload().code());
        b.putLong(0x20, request.seed());
        b.putLong(0x28, request.workingSetBytes());
        b.putLong(0x30, request.touchOrder().code());
        b.putLong(0x38, request.strideBytes() / 4096);
        b.putLong(0x40, regions.size());
        for (int i = 0; i < regions.size(); i++) {
            b.putLong(0x48 + 16 * i, regions.get(i).guestAddress());
            b.putLong(0x50 + 16 * i, regions.get(i).size());
        }
        b.putLong(0x88, TIMER_INITIAL_COUNT);
        b.putLong(0x90, request.residentBytes());
        b.putLong(0x98, request.writePercent());
        return b.array();
    }
}
