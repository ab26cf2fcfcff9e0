package dev.thaw.api.vm;

/** Where a VM is in its life. */
public enum VmStatus {
    /** vCPUs are running guest code. */
    RUNNING,
    /** vCPUs are stopped at a consistent point and can resume. */
    PAUSED,
    /** The guest reported an exit code through the debug-exit port. */
    EXITED,
    /** The guest crashed (triple fault, internal error) or the VMM failed it; see the reason. */
    FAILED,
    /** Stopped by the user; its resources are freed. */
    STOPPED
}
