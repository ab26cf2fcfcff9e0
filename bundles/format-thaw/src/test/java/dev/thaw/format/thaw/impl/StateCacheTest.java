package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.api.snapshot.MachineState;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The parsed-state cache answers only for the exact bytes it parsed, and forgets the least recent. */
class StateCacheTest {

    private static byte[] json(int seed) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Snapshots.Memory memory = Snapshots.memory(arena, seed, Snapshots.twoRegions(1L << 20, 1L << 20));
            return StateJson.write(Snapshots.state(seed, memory.layouts()));
        }
    }

    @Test
    void theSameBytesGiveTheStateParsedBeforeAndOtherBytesAreParsed() throws IOException {
        StateCache cache = new StateCache();
        byte[] a = json(1);
        MachineState first = cache.parse(a);
        assertSame(first, cache.parse(a.clone()), "equal bytes, another array");
        byte[] b = json(2);
        MachineState other = cache.parse(b);
        assertNotSame(first, other);
        assertEquals(StateJson.read(b), other);
    }

    @Test
    void badJsonFailsEveryTimeAndTheLeastRecentStateIsForgotten() throws IOException {
        StateCache cache = new StateCache();
        byte[] bad = "{\"guest\": 1}".getBytes(StandardCharsets.UTF_8);
        assertThrows(Exception.class, () -> cache.parse(bad));
        assertThrows(Exception.class, () -> cache.parse(bad));
        byte[] first = json(100);
        MachineState kept = cache.parse(first);
        for (int i = 0; i < StateCache.MAX_ENTRIES; i++) {
            cache.parse(json(200 + i));
        }
        assertNotSame(kept, cache.parse(first), "pushed out by " + StateCache.MAX_ENTRIES + " newer states");
    }
}
