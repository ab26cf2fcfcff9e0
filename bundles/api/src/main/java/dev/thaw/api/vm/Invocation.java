package dev.thaw.api.vm;

import java.time.Duration;

/**
 * One completed invocation of the {@code function} workload.
 *
 * @param index the invocation's number in this VM's life (1 is the first after boot)
 * @param resultLine the guest's result line, e.g. {@code result function 0123456789abcdef}
 * @param elapsed host time from sending the request to receiving the result line
 */
public record Invocation(int index, String resultLine, Duration elapsed) {}
