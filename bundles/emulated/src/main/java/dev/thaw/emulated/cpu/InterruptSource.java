package dev.thaw.emulated.cpu;

/** A vCPU's local APIC as its CPU sees it at instruction boundaries. Thread-safe. */
public interface InterruptSource {

    /**
     * The vector of the highest-priority fixed interrupt the CPU should take now (requested, and above
     * the processor priority), or -1. Asked only when RFLAGS.IF is set and no interrupt shadow holds.
     */
    int pendingVector();

    /** The CPU takes {@code vector} (the one {@link #pendingVector()} returned): it moves from IRR to ISR. */
    void acknowledge(int vector);

    /** CR8: the task priority register's bits 7:4. */
    int taskPriority();

    /** A write of CR8. */
    void setTaskPriority(int cr8);
}
