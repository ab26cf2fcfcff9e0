package dev.thaw.linux.internal;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct timespec} (time.h), for sigtimedwait. */
public final class Timespec {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("tv_sec"), JAVA_LONG.withName("tv_nsec"))
            .withName("struct timespec");

    private static final long TV_SEC = offset(LAYOUT, "tv_sec");
    private static final long TV_NSEC = offset(LAYOUT, "tv_nsec");

    private Timespec() {}

    public static MemorySegment allocate(Arena arena, long nanos) {
        MemorySegment s = arena.allocate(LAYOUT);
        s.set(JAVA_LONG, TV_SEC, nanos / 1_000_000_000L);
        s.set(JAVA_LONG, TV_NSEC, nanos % 1_000_000_000L);
        return s;
    }
}
