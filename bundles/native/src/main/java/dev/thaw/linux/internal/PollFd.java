package dev.thaw.linux.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** {@code struct pollfd} (poll.h), for poll(2). */
public final class PollFd {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"))
            .withName("struct pollfd");

    public static final long FD = offset(LAYOUT, "fd");
    public static final long EVENTS = offset(LAYOUT, "events");
    public static final long REVENTS = offset(LAYOUT, "revents");

    private PollFd() {}
}
