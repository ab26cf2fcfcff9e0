package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.ICR_ASSERT;
import static dev.thaw.emulated.irq.ApicRegisters.ICR_DELIVERY_MODE_SHIFT;
import static dev.thaw.emulated.irq.ApicRegisters.ICR_LEVEL_TRIGGER;
import static dev.thaw.emulated.irq.ApicRegisters.ICR_LOGICAL;
import static dev.thaw.emulated.irq.ApicRegisters.ICR_SHORTHAND_SHIFT;
import static dev.thaw.emulated.irq.ApicRegisters.ICR_VECTOR;
import static dev.thaw.emulated.irq.ApicRegisters.SHORTHAND_ALL;
import static dev.thaw.emulated.irq.ApicRegisters.SHORTHAND_ALL_BUT_SELF;
import static dev.thaw.emulated.irq.ApicRegisters.SHORTHAND_SELF;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

/**
 * The APIC bus of one VM: its local APICs and its IOAPIC. Interrupt messages (from the IOAPIC, or IPIs
 * from a local APIC's ICR) go to the local APICs their destination selects; EOIs of level-triggered
 * vectors go back to the IOAPIC. It also owns the VM's time source, so every APIC timer runs on one
 * clock.
 *
 * <p>Destinations (xAPIC): physical mode matches the APIC ID in ID[31:24], 0xFF is a broadcast; logical
 * mode matches against each APIC's LDR in its DFR's model (flat: any common bit; cluster: same cluster
 * nibble and a common bit in the low nibble), 0xFF is a broadcast. Lowest-priority delivery goes to the
 * first matching, software-enabled APIC in creation order (KVM instead arbitrates on priority or hashes
 * the vector; both are allowed by the SDM). An APIC that is hardware-disabled (APIC base MSR bit 11
 * clear) receives nothing, as in KVM.
 *
 * <p>Thread-safe. Lock order: IOAPIC, then a local APIC; nothing here holds a lock while delivering.
 */
public final class ApicBus {

    /** Delivery modes (ICR and redirection-entry bits 10:8, LVT bits 10:8). */
    public static final int FIXED = 0;
    public static final int LOWEST_PRIORITY = 1;
    public static final int SMI = 2;
    public static final int NMI = 4;
    public static final int INIT = 5;
    public static final int STARTUP = 6;
    public static final int EXTINT = 7;

    /** Physical and logical broadcast destination in xAPIC mode. */
    public static final int BROADCAST = 0xFF;

    private final LongSupplier clock;
    private final List<LocalApic> apics = new CopyOnWriteArrayList<>();
    private volatile IoApic ioapic;
    private volatile StartupListener startupListener = StartupListener.NONE;

    /**
     * @param nanoClock the VM's time source in nanoseconds: {@code System::nanoTime} in the runtime, a
     *     settable counter in tests
     */
    public ApicBus(LongSupplier nanoClock) {
        this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /** A bus on {@link System#nanoTime()}. */
    public static ApicBus onSystemClock() {
        return new ApicBus(System::nanoTime);
    }

    /**
     * Creates the local APIC of one vCPU in its power-up state (enabled in the APIC base MSR at
     * 0xFEE00000, software-disabled, LVTs masked; the bootstrap processor's LINT0 in ExtINT mode as KVM
     * leaves it).
     *
     * @param apicId the initial APIC ID (Thaw: the vCPU index)
     * @param bootstrap whether this is the BSP (APIC base MSR bit 8)
     * @param kick called when an interrupt or event becomes pending from outside the vCPU's own
     *     instruction stream, so a running vCPU looks at its boundary check soon; must not block. A vCPU
     *     blocked in {@link LocalApic#awaitInterrupt} is woken without it.
     */
    public LocalApic createLocalApic(int apicId, boolean bootstrap, Runnable kick) {
        if (apicId < 0 || apicId >= BROADCAST) {
            throw new IllegalArgumentException("xAPIC ID " + apicId + " outside 0..254");
        }
        for (LocalApic a : apics) {
            if (a.initialApicId() == apicId) {
                throw new IllegalArgumentException("APIC ID " + apicId + " exists already");
            }
        }
        LocalApic apic = new LocalApic(this, apicId, bootstrap, kick);
        apics.add(apic);
        return apic;
    }

    /** Creates the VM's IOAPIC (one per bus) in its reset state: all pins masked. */
    public IoApic createIoApic() {
        IoApic created = new IoApic(this);
        synchronized (this) {
            if (ioapic != null) {
                throw new IllegalStateException("the bus has an IOAPIC already");
            }
            ioapic = created;
        }
        return created;
    }

    /** The local APICs in creation order. */
    public List<LocalApic> localApics() {
        return List.copyOf(apics);
    }

    /** Where INIT and start-up IPIs are reported. */
    public void setStartupListener(StartupListener listener) {
        startupListener = Objects.requireNonNull(listener, "listener");
    }

    LongSupplier clock() {
        return clock;
    }

    /**
     * Delivers an interrupt message (the IOAPIC's, or an MSI's) to the local APICs its destination
     * selects.
     *
     * @param destination the 8-bit destination (physical APIC ID or logical mask)
     * @param logical logical destination mode
     * @param deliveryMode one of the delivery mode constants
     * @param levelTriggered level-triggered: the receiving APIC sets the vector's TMR bit, and its EOI
     *     comes back to the IOAPIC
     * @return how many APICs accepted it
     */
    public int deliver(int destination, boolean logical, int deliveryMode, int vector, boolean levelTriggered) {
        List<LocalApic> targets = new ArrayList<>();
        for (LocalApic a : apics) {
            if (a.matchesDestination(destination & 0xFF, logical)) {
                targets.add(a);
            }
        }
        return deliverTo(targets, deliveryMode, vector, levelTriggered, true);
    }

    /** Sends the IPI a write of ICR low describes ({@code source}'s lock is not held). */
    void sendIpi(LocalApic source, int icrLow, int icrHigh) {
        int shorthand = (icrLow >>> ICR_SHORTHAND_SHIFT) & 3;
        List<LocalApic> targets = new ArrayList<>();
        for (LocalApic a : apics) {
            boolean selected = switch (shorthand) {
                case SHORTHAND_SELF -> a == source;
                case SHORTHAND_ALL -> a.isHardwareEnabled();
                case SHORTHAND_ALL_BUT_SELF -> a != source && a.isHardwareEnabled();
                default -> a.matchesDestination(icrHigh >>> 24, (icrLow & ICR_LOGICAL) != 0);
            };
            if (selected) {
                targets.add(a);
            }
        }
        deliverTo(targets, (icrLow >>> ICR_DELIVERY_MODE_SHIFT) & 7, icrLow & ICR_VECTOR,
                (icrLow & ICR_LEVEL_TRIGGER) != 0, (icrLow & ICR_ASSERT) != 0);
    }

    /** A local APIC's EOI of a level-triggered vector; the IOAPIC clears remote IRR of its pins. */
    void broadcastEoi(int vector) {
        IoApic target = ioapic;
        if (target != null) {
            target.endOfInterrupt(vector);
        }
    }

    private int deliverTo(List<LocalApic> targets, int mode, int vector, boolean level, boolean assertLevel) {
        if (mode == LOWEST_PRIORITY) {
            LocalApic chosen = null;
            for (LocalApic a : targets) {
                if (a.isSoftwareEnabled()) {
                    chosen = a;
                    break;
                }
            }
            targets = chosen == null ? List.of() : List.of(chosen);
        }
        int accepted = 0;
        StartupListener listener = startupListener;
        for (LocalApic a : targets) {
            if (!a.accept(mode, vector, level, assertLevel)) {
                continue;
            }
            accepted++;
            if (mode == INIT) {
                listener.onInit(a.initialApicId());
            } else if (mode == STARTUP) {
                listener.onSipi(a.initialApicId(), vector);
            }
        }
        return accepted;
    }
}
