package dev.thaw.emulated.irq;

import dev.thaw.api.device.InterruptLine;

/**
 * A VM's interrupt lines as KVM's default routing wires them (what {@code KVM_IRQ_LINE} drives when no
 * routing table is set): GSI 0-15 go to both the 8259 pair (IRQ n) and IOAPIC pin n, GSI 16-23 to the
 * IOAPIC only. Thread-safe.
 */
public final class InterruptRouter {

    public static final int GSIS = IoApic.PINS;
    private static final int PIC_IRQS = 16;

    private final DualPic pic;
    private final IoApic ioapic;

    public InterruptRouter(DualPic pic, IoApic ioapic) {
        this.pic = pic;
        this.ioapic = ioapic;
    }

    /** The level of {@code gsi} (0-23), as {@code KVM_IRQ_LINE} sets it. */
    public void setIrq(int gsi, boolean level) {
        if (gsi < 0 || gsi >= GSIS) {
            throw new IllegalArgumentException("GSI " + gsi);
        }
        if (gsi < PIC_IRQS) {
            pic.setIrq(gsi, level);
        }
        ioapic.setIrq(gsi, level);
    }

    /** The line a device holds for {@code gsi}. */
    public InterruptLine line(int gsi) {
        if (gsi < 0 || gsi >= GSIS) {
            throw new IllegalArgumentException("GSI " + gsi);
        }
        return level -> setIrq(gsi, level);
    }
}
