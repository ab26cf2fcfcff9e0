package dev.thaw.qemu.postcopy.impl;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * How much of the stream the destination has not read yet, bounded so that a requested page never queues behind
 * much background data: socket buffers alone hold megabytes over TCP (tens of milliseconds of pages at the
 * destination's pace, all of it ahead of a request). The sender writes a PING every {@link #PING_EVERY} bytes
 * after the package; the destination's listen thread answers each with a PONG as it reads that far
 * (docs/qemu-postcopy.md 6.2), so the bytes written since the last PING answered are still on their way. Background
 * parts wait while that is {@link #WINDOW} or more; requested pages go at once, behind at most that much.
 * The sender writes and pings; the return-path thread records the PONGs.
 */
final class SendWindow {

    /** Bytes written and not yet read by the destination, past which background parts wait. */
    static final long WINDOW = 1 << 20;
    /** Bytes between two PINGs: a quarter of the window, so that the next PONG comes well before it is full. */
    static final long PING_EVERY = WINDOW / 4;
    /** The first PING's value; later ones count up. Below it are the preamble's ({@link Preamble#PING_DEVICES_LOADED}). */
    static final int FIRST_PING = 0x100;

    private record Ping(int value, long at) {}

    /** Bytes written since the preamble; the sender's alone. */
    private long written;
    private long pingedAt;
    private int nextValue = FIRST_PING;
    /** PINGs written and not yet answered, oldest first; guarded by itself. */
    private final ArrayDeque<Ping> pending = new ArrayDeque<>();
    /** Bytes the destination has read, as of the last PONG. */
    private volatile long read;
    /** The sender found the window full: the next PONG must wake it. */
    private volatile boolean full;

    /** Whether background data may be written now; if not, the PONG that opens it says so ({@link #ponged}). */
    boolean open() {
        if (written - read < WINDOW) {
            full = false;
            return true;
        }
        full = true;
        return written - read < WINDOW; // a PONG that came before the flag was set is seen here
    }

    /** {@code bytes} more were written. */
    void wrote(long bytes) {
        written += bytes;
    }

    /** A PING to write now, if {@link #PING_EVERY} bytes went since the last one; else null. */
    ByteBuffer pingIfDue() {
        if (written - pingedAt < PING_EVERY) {
            return null;
        }
        int value = nextValue++;
        synchronized (pending) {
            pending.add(new Ping(value, written));
        }
        pingedAt = written;
        return new StreamWriter(16).ping(value).bytes();
    }

    /**
     * A PONG came with {@code value}: true if it answered one of this window's PINGs and the sender waits for it
     * (then it is to be woken).
     */
    boolean ponged(int value) {
        if (value < FIRST_PING) {
            return false;
        }
        boolean answered = false;
        synchronized (pending) {
            // PONGs come in the order of their PINGs: one answers every PING before it too
            for (Ping p; (p = pending.peek()) != null && p.value() <= value; ) {
                pending.poll();
                read = p.at();
                answered = true;
            }
        }
        return answered && full;
    }
}
