package dev.thaw.emulated.irq;

/**
 * Told when an INIT or a start-up IPI reaches a local APIC, so the runtime can reset or start that
 * vCPU. Called on the sending thread (a vCPU thread, or a device thread through the IOAPIC) after the
 * target APIC recorded the event (see {@link LocalApic#takeInit()}, {@link LocalApic#takeSipi()}); must
 * not block. The target is named by its initial APIC ID, which Thaw makes the vCPU index (the guest may
 * rewrite the ID register afterwards; this number does not change).
 */
public interface StartupListener {

    /** An INIT (not an INIT level de-assert) reached the APIC of {@code apicId}. */
    void onInit(int apicId);

    /** A start-up IPI with {@code vector} (start at {@code vector << 12}) reached the APIC of {@code apicId}. */
    void onSipi(int apicId, int vector);

    /** Ignores both. */
    StartupListener NONE = new StartupListener() {
        @Override
        public void onInit(int apicId) {}

        @Override
        public void onSipi(int apicId, int vector) {}
    };
}
