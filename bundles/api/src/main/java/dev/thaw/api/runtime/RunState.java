package dev.thaw.api.runtime;

/** Where a VM is in its life. */
public enum RunState {
    /** Created; vCPUs may be added; not started. */
    CREATED,
    /** vCPU threads are running the guest. */
    RUNNING,
    /** Every vCPU is parked at an instruction boundary with no I/O half done. */
    PAUSED,
    /** The vCPU threads have ended; state can still be read. */
    STOPPED,
    /** Everything is released. */
    CLOSED
}
