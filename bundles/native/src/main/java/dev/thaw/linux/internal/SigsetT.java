package dev.thaw.linux.internal;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * glibc's {@code sigset_t} (signal.h, 1024 bits), for pthread_sigmask and sigtimedwait. Linux has 64
 * signals, so Java holds a set as one {@code long}: bit n-1 is signal n, the same bits as {@code __val[0]}.
 */
public final class SigsetT {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_LONG).withName("__val"))
            .withName("sigset_t");

    private SigsetT() {}

    public static MemorySegment allocate(Arena arena, long mask) {
        MemorySegment s = arena.allocate(LAYOUT);
        s.set(JAVA_LONG, 0, mask);
        return s;
    }

    public static long read(MemorySegment s) {
        return s.get(JAVA_LONG, 0);
    }
}
