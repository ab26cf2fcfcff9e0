package dev.thaw.emulated.irq;

/**
 * The NMI, INIT and start-up IPI a local APIC received and its vCPU has not yet taken. These do not go
 * through IRR and ISR; the runtime takes them at its instruction-boundary check and keeps them in the
 * vCPU's events and MP state, not in the APIC's page. Thread-safe.
 */
final class ApicEvents {

    private final WakeSignal wake;
    private volatile int pending;
    private int sipiVector = -1;

    ApicEvents(WakeSignal wake) {
        this.wake = wake;
    }

    /** The {@link LocalApic#EVENT_NMI}, {@link LocalApic#EVENT_INIT}, {@link LocalApic#EVENT_SIPI} bits. */
    int pending() {
        return pending;
    }

    synchronized void raiseNmi() {
        raise(LocalApic.EVENT_NMI);
    }

    /** An INIT; a start-up IPI received before it no longer counts. */
    synchronized void raiseInit() {
        sipiVector = -1;
        pending &= ~LocalApic.EVENT_SIPI;
        raise(LocalApic.EVENT_INIT);
    }

    synchronized void raiseSipi(int vector) {
        sipiVector = vector & 0xFF;
        raise(LocalApic.EVENT_SIPI);
    }

    /** Takes {@code event}; one volatile read when it is not pending. */
    boolean take(int event) {
        if ((pending & event) == 0) {
            return false;
        }
        synchronized (this) {
            boolean was = (pending & event) != 0;
            pending &= ~event;
            return was;
        }
    }

    /** The start-up vector, or -1; consumes the SIPI. */
    synchronized int takeSipi() {
        int vector = (pending & LocalApic.EVENT_SIPI) != 0 ? sipiVector : -1;
        pending &= ~LocalApic.EVENT_SIPI;
        sipiVector = -1;
        return vector;
    }

    synchronized void clear() {
        pending = 0;
        sipiVector = -1;
    }

    private void raise(int event) {
        pending |= event;
        wake.signal();
    }
}
