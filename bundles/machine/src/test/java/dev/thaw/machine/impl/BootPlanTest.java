package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Workload;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class BootPlanTest {

    static final GuestImage IMAGE = new GuestImage(new byte[4096], 4L << 20, 16);

    static BootRequest request(long memory, int vcpus, Workload w, long workingSet) {
        return new BootRequest(null, memory, vcpus, w, 7, workingSet, TouchOrder.RANDOM, 8192);
    }

    String refusal(BootRequest r) {
        return assertThrows(IllegalArgumentException.class, () -> BootPlan.of("vm1", r, IMAGE)).getMessage();
    }

    @Test
    void smallMemoryKeepsOneRegionAndLargeMemorySkipsTheApicHole() {
        assertEquals(List.of(new MemoryLayout.Region(0, 256L << 20)),
                BootPlan.of("a", request(256L << 20, 1, Workload.FILL, 4096), IMAGE).regions());
        assertEquals(List.of(new MemoryLayout.Region(0, 3L << 30), new MemoryLayout.Region(4L << 30, 5L << 30)),
                BootPlan.of("a", request(8L << 30, 2, Workload.FILL, 4096), IMAGE).regions());
    }

    @Test
    void bootParametersCarryTheRequestAtTheGuestsOffsets() {
        BootPlan plan = BootPlan.of("a", request(5L << 30, 2, Workload.TOUCH, 1L << 20), IMAGE);
        ByteBuffer b = ByteBuffer.wrap(plan.bootParameters()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(BootParameters.MAGIC, b.getLong(0));
        assertEquals(1, b.getLong(0x08));
        assertEquals(2, b.getLong(0x10));
        assertEquals(Workload.TOUCH.code(), b.getLong(0x18));
        assertEquals(7, b.getLong(0x20));
        assertEquals(1L << 20, b.getLong(0x28));
        assertEquals(TouchOrder.RANDOM.code(), b.getLong(0x30));
        assertEquals(2, b.getLong(0x38), "stride in pages");
        assertEquals(2, b.getLong(0x40));
        assertEquals(0, b.getLong(0x48));
        assertEquals(3L << 30, b.getLong(0x50));
        assertEquals(4L << 30, b.getLong(0x58));
        assertEquals(2L << 30, b.getLong(0x60));
        assertEquals(BootParameters.TIMER_INITIAL_COUNT, b.getLong(0x88));
        assertEquals(0, b.getLong(0x90), "resident set: 0, the working set alone");
        assertEquals(100, b.getLong(0x98), "write percent: 100, every page read is written");
        assertEquals(0, b.getLong(0xa0), "nothing after the last field");
    }

    @Test
    void theWritePercentGoesAtOffset0x98() {
        BootRequest r = new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 42, 32L << 20, TouchOrder.SEQUENTIAL, 4096,
                BootRequest.RESIDENT_AS_WORKING_SET, 10);
        ByteBuffer b = ByteBuffer.wrap(BootPlan.of("a", r, IMAGE).bootParameters()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, b.getLong(0x90));
        assertEquals(10, b.getLong(0x98));
    }

    @Test
    void theResidentSetGoesAtOffset0x90() {
        BootRequest r = new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 42, 32L << 20, TouchOrder.SEQUENTIAL, 4096, 128L << 20);
        ByteBuffer b = ByteBuffer.wrap(BootPlan.of("a", r, IMAGE).bootParameters()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(32L << 20, b.getLong(0x28));
        assertEquals(128L << 20, b.getLong(0x90));
    }

    @Test
    void refusalsNameTheProblem() {
        assertEquals("memory 4 MiB is smaller than the 6 MiB the test guest needs", refusal(request(4L << 20, 1, Workload.FILL, 4096)));
        assertEquals("memory 131072 MiB is larger than the 65536 MiB the test guest can map", refusal(request(128L << 30, 1, Workload.FILL, 4096)));
        assertEquals("memory 10489856 bytes is not a multiple of 2 MiB", refusal(request((10L << 20) + 4096, 1, Workload.FILL, 4096)));
        assertEquals("17 vCPUs is more than the 16 the test guest supports", refusal(request(64L << 20, 17, Workload.FILL, 4096)));
        assertEquals("working set 64 MiB does not fit the 60 MiB of guest memory above the guest's own pages",
                refusal(request(64L << 20, 1, Workload.FUNCTION, 64L << 20)));
        assertEquals("resident set 64 MiB does not fit the 60 MiB of guest memory above the guest's own pages",
                refusal(new BootRequest(null, 64L << 20, 1, Workload.FUNCTION, 7, 4L << 20, TouchOrder.SEQUENTIAL, 4096, 64L << 20)));
        assertThrows(IllegalArgumentException.class, () -> BootPlan.of("bad name!", request(64L << 20, 1, Workload.FILL, 4096), IMAGE));
    }

    @Test
    void theRequestRecordRefusesZeroVcpusAndOddSizes() {
        assertThrows(IllegalArgumentException.class, () -> request(64L << 20, 0, Workload.FILL, 4096));
        assertThrows(IllegalArgumentException.class, () -> request(64L << 20, 1, Workload.FILL, 1000));
    }

    @Test
    void theRequestRecordRefusesAResidentSetSmallerThanTheWorkingSetOrOfPartPages() {
        assertEquals("resident set 16 MiB is smaller than the working set of 32 MiB", assertThrows(IllegalArgumentException.class,
                () -> new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 1, 32L << 20, TouchOrder.SEQUENTIAL, 4096, 16L << 20)).getMessage());
        assertEquals("resident set must be 0 or a positive multiple of 4 KiB, not 33559528", assertThrows(IllegalArgumentException.class,
                () -> new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 1, 32L << 20, TouchOrder.SEQUENTIAL, 4096, (32L << 20) + 4096 + 1000)).getMessage());
        assertEquals("resident set must be 0 or a positive multiple of 4 KiB, not -4096", assertThrows(IllegalArgumentException.class,
                () -> new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 1, 32L << 20, TouchOrder.SEQUENTIAL, 4096, -4096)).getMessage());
        BootRequest same = new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 1, 32L << 20, TouchOrder.SEQUENTIAL, 4096, 32L << 20);
        assertEquals(32L << 20, same.residentBytes(), "a resident set as large as the working set is one");
        assertEquals(BootRequest.RESIDENT_AS_WORKING_SET,
                new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 1, 32L << 20, TouchOrder.SEQUENTIAL, 4096).residentBytes(),
                "the constructor without it keeps the working set alone");
    }

    @Test
    void theRequestRecordRefusesAWritePercentOutside1To100() {
        for (int percent : new int[] {101, 0, -1, 1000}) {
            assertEquals("write percent must be 1 to 100, not " + percent, assertThrows(IllegalArgumentException.class,
                    () -> new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 1, 32L << 20, TouchOrder.SEQUENTIAL, 4096,
                            BootRequest.RESIDENT_AS_WORKING_SET, percent)).getMessage());
        }
        assertEquals(1, new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 1, 32L << 20, TouchOrder.SEQUENTIAL, 4096,
                BootRequest.RESIDENT_AS_WORKING_SET, 1).writePercent());
        assertEquals(BootRequest.WRITE_ALL, new BootRequest(null, 256L << 20, 1, Workload.FUNCTION, 1, 32L << 20,
                TouchOrder.SEQUENTIAL, 4096, 128L << 20).writePercent(), "the constructors without it write every page read");
        assertEquals(BootRequest.WRITE_ALL, request(64L << 20, 1, Workload.FILL, 4096).writePercent());
    }
}
