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
 *
 * <p>Small by design: it keeps states of at most {@link #MAX_ENTRY_BYTES} of JSON (a machine of a few
 * dozen vCPUs), at most {@link #MAX_ENTRIES} of them and {@link #MAX_HELD_BYTES} of JSON in all, least
 * recently used forgotten first. A larger state is parsed every time: its parse is not what a restore of
 * it waits for.
 */
final class StateCache {

    static final int MAX_ENTRIES = 8;
    static final int MAX_ENTRY_BYTES = 1 << 20;
    static final long MAX_HELD_BYTES = 4L << 20;

    private record Parsed(byte[] json, MachineState state) {}

    /** Most recently used first; guarded by itself. */
    private final Deque<Parsed> recent = new ArrayDeque<>();
    /** The JSON bytes of {@link #recent}; guarded by {@link #recent}. */
    private long held;

    /** @throws IOException or a runtime exception as {@link StateJson#read} when the JSON is not a state */
    MachineState parse(byte[] json) throws IOException {
        if (json.length > MAX_ENTRY_BYTES) {
            return StateJson.read(json);
        }
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
            held += json.length;
            while (recent.size() > MAX_ENTRIES || held > MAX_HELD_BYTES) {
                held -= recent.removeLast().json().length;
            }
        }
        return state;
    }

    /** Bytes of JSON held. */
    long heldBytes() {
        synchronized (recent) {
            return held;
        }
    }
}
