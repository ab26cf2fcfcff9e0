package dev.thaw.api.device;

import org.osgi.annotation.versioning.ProviderType;

/** What a VM offers the devices it holds. */
@ProviderType
public interface DeviceContext {

    String vmId();

    /** The VM's interrupt line {@code irq} (an ISA IRQ, routed to both PICs and the IOAPIC). */
    InterruptLine interruptLine(int irq);

    /** Where bytes the guest sends to its console go. */
    ConsoleOutput console();

    /** The guest asked to end with {@code code}; the VM stops its vCPUs and records the code. */
    void guestExit(int code);
}
