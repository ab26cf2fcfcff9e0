package dev.thaw.api.snapshot;

/**
 * The host side of a guest's session, so a restored VM shows the same history and counts on.
 *
 * @param consoleText the retained console output (newest bytes)
 * @param consoleBytes every byte the guest ever wrote to the console
 * @param results result lines the guest has printed so far (some may have scrolled out of the text)
 * @param invocations invocations of the function workload sent so far
 */
public record SessionState(String consoleText, long consoleBytes, int results, int invocations) {}
