package dev.thaw.emulated.cpu;

/**
 * A vCPU's local APIC as its CPU sees it: interrupts at instruction boundaries, CR8, and the APIC base MSR
 * (the APIC decides where its page is and whether it is enabled). Thread-safe.
 */
public interface InterruptSource {

    /** IA32_APIC_BASE of a BSP whose xAPIC is enabled at 0xFEE00000 (bit 11 enable, bit 8 BSP). */
    long DEFAULT_APIC_BASE = 0xFEE0_0900L;

    /**
     * The vector of the highest-priority fixed interrupt the CPU should take now (requested, and above
     * the processor priority), or -1. Asked only when RFLAGS.IF is set and no interrupt shadow holds.
     */
    int pendingVector();

    /** The CPU takes {@code vector} (the one {@link #pendingVector()} returned): it moves from IRR to ISR. */
    void acknowledge(int vector);

    /**
     * Takes a pending NMI, which the CPU delivers (vector 2, whatever RFLAGS.IF) or keeps pending while an
     * earlier one is in service. Asked when the CPU asks for {@link #pendingVector()} and when it halts.
     * The default has none.
     */
    default boolean takeNmi() {
        return false;
    }

    /** CR8: the task priority register's bits 7:4. */
    int taskPriority();

    /** A write of CR8. */
    void setTaskPriority(int cr8);

    /**
     * IA32_APIC_BASE (MSR 0x1B) as RDMSR and a state export read it. The default is for a source that
     * models no APIC: {@link #DEFAULT_APIC_BASE}, which never moves.
     */
    default long apicBaseMsr() {
        return DEFAULT_APIC_BASE;
    }

    /**
     * A WRMSR of IA32_APIC_BASE, after the CPU's own check (reserved bits 0-7 and 9, address bits beyond
     * the physical address width): whether the APIC takes {@code value}; false makes the WRMSR raise
     * #GP(0). The default takes only the value it already has.
     */
    default boolean setApicBaseMsr(long value) {
        return value == apicBaseMsr();
    }
}
