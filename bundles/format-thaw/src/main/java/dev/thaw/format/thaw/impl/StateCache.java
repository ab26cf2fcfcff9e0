package dev.thaw.format.thaw.impl;

import dev.thaw.api.snapshot.MachineState;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;

/**
 * Machine states parsed lately, by their exact JSON bytes (compared whole, so a hit is the same state
 * by definition). Restoring one snapshot again and again, as a server of functions does, then skips
 * the Jackson parse, the slowest step of opening a snapshot on the way to resuming it.
 */
final class StateCache {

    static final int MAX_ENTRIES = 8;

    private record Parsed(byte[] json, MachineState state) {}

    /** Most recently used first; guarded by itself. */
    private final Deque<Parsed> recent = new ArrayDeque<>();

    /** @throws IOException or a runtime exception as {@link StateJson#read} when the JSON is not a state */
    MachineState parse(byte[] json) throws IOException {
        synchronized (recent) {
            for (Iterator<Parsed> it = recent.iterator(); it.hasNext(); ) {
                Parsed p = it.next();
                if (Arrays.equals(p.json(), json)) {
                    it.remove();
                    recent.addFirst(p);
                    return p.state();
                }
            }
        }
        MachineState state = StateJson.read(json);
        synchronized (recent) {
            recent.addFirst(new Parsed(json, state));
            while (recent.size() > MAX_ENTRIES) {
                recent.removeLast();
            }
        }
        return state;
    }
}
