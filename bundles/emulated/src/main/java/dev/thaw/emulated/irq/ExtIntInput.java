package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.LVT_DELIVERY_MODE;
import static dev.thaw.emulated.irq.ApicRegisters.LVT_MASKED;

/**
 * The 8259 pair as a local APIC's LINT0 sees it: the INTR level, and the vector of an acknowledge cycle
 * the CPU has not yet taken. An ExtINT is requested while INTR is high and LINT0 is an unmasked ExtINT
 * entry, or the APIC is hardware-disabled (the PIC then reaches the CPU directly), as KVM's
 * {@code kvm_apic_accept_pic_intr}. Guarded by the owning {@link LocalApic}.
 */
final class ExtIntInput {

    private DualPic pic;
    private boolean intr;
    private int latched = -1;

    void connect(DualPic dualPic) {
        pic = dualPic;
    }

    DualPic pic() {
        return pic;
    }

    boolean intr() {
        return intr;
    }

    void setIntr(boolean level) {
        intr = level;
    }

    boolean requested(int lvt0, boolean hardwareEnabled) {
        return pic != null && intr
                && (!hardwareEnabled || ((lvt0 & LVT_MASKED) == 0 && (lvt0 & LVT_DELIVERY_MODE) >>> 8 == ApicBus.EXTINT));
    }

    /** The latched vector, or -1. */
    int latched() {
        return latched;
    }

    void latch(int vector) {
        latched = vector & 0xFF;
    }

    /** Whether {@code vector} is the latched ExtINT; if so the CPU took it. */
    boolean take(int vector) {
        if (latched < 0 || vector != latched) {
            return false;
        }
        latched = -1;
        return true;
    }

    void dropLatch() {
        latched = -1;
    }
}
