package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;

import dev.thaw.api.state.LapicState;
import dev.thaw.emulated.cpu.InterruptSource;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * One vCPU's local APIC in xAPIC mode (SDM vol. 3A ch. 11), its state in KVM's register-page layout so
 * {@link LapicState}s move between the KVM and emulated runtimes. Created by
 * {@link ApicBus#createLocalApic}.
 *
 * <p><b>Threads.</b> The vCPU's thread accesses registers, asks {@link #pendingVector()} at instruction
 * boundaries (one volatile read while nothing is requested), polls the timer and waits in
 * {@link #awaitInterrupt}; device threads and other vCPUs deliver through the {@link ApicBus}. State is
 * guarded by this object's monitor, and nothing (bus, IOAPIC, PIC, kick) is called with it held.
 *
 * <p><b>ExtINT.</b> When LINT0 is an unmasked ExtINT entry (or the APIC is hardware-disabled) and the
 * 8259's INTR is high, {@link #pendingVector()} runs the PIC's acknowledge cycle and latches the vector
 * until {@link #acknowledge}; ExtINT goes before fixed interrupts and bypasses IRR, ISR and PPR (KVM).
 *
 * <p><b>Not here.</b> x2APIC (the APIC base MSR refuses bit 10, so CPUID must not offer it), SMI,
 * directed EOI, the CMCI LVT. Pending NMI/INIT/SIPI ({@link #takeNmi()}, {@link #takeInit()},
 * {@link #takeSipi()}) are the runtime's to keep in its vCPU events; they are not in {@link LapicState}.
 */
public final class LocalApic implements InterruptSource {

    public static final long DEFAULT_BASE = 0xFEE0_0000L;
    public static final int MMIO_SIZE = 0x1000;

    /** {@link #pendingEvents()} bits. */
    public static final int EVENT_NMI = 1;
    public static final int EVENT_INIT = 2;
    public static final int EVENT_SIPI = 4;

    /** A {@link #fast} value: an ExtINT is requested or latched; {@link #pendingVector()} looks closer. */
    private static final int EXTINT_CHECK = 0x100;

    private final ApicBus bus;
    private final LongSupplier clock;
    private final int initialApicId;
    private final Runnable kick;
    private final WakeSignal wake = new WakeSignal();
    private final ApicEvents events = new ApicEvents(wake);

    // Guarded by this.
    private final ApicRegisterPage page = new ApicRegisterPage();
    private final ApicTimer timer = new ApicTimer(page);
    private final ApicBaseMsr base;
    private final ExtIntInput extInt = new ExtIntInput();
    private boolean lint1;

    /** The deliverable fixed vector, -1, or {@link #EXTINT_CHECK}; kept by {@link #refresh()}. */
    private volatile int fast = -1;

    LocalApic(ApicBus bus, int apicId, boolean bootstrap, Runnable kick) {
        this.bus = bus;
        this.clock = bus.clock();
        this.initialApicId = apicId;
        this.kick = kick;
        this.base = new ApicBaseMsr(bootstrap);
        synchronized (this) {
            resetRegisters(false);
        }
    }

    /** The APIC ID this APIC was created with (Thaw: the vCPU index). */
    public int initialApicId() {
        return initialApicId;
    }

    /** Wires the 8259 pair's INTR to LINT0 and its acknowledge cycle to this APIC (the BSP's). */
    public void connectPic(DualPic dualPic) {
        synchronized (this) {
            extInt.connect(dualPic);
        }
        dualPic.connectOutput(level -> setLint(0, level));
    }

    // ---- InterruptSource ----

    @Override
    public int pendingVector() {
        int f = fast;
        return f == EXTINT_CHECK ? pendingExtInt() : f;
    }

    /** Takes {@code vector}: a latched ExtINT is consumed, a fixed vector moves from IRR to ISR. */
    @Override
    public synchronized void acknowledge(int vector) {
        if (!extInt.take(vector)) {
            page.service(vector);
        }
        refresh();
    }

    @Override
    public synchronized int taskPriority() {
        return (page.get(TPR) >>> 4) & 0xF;
    }

    @Override
    public synchronized void setTaskPriority(int cr8) {
        page.set(TPR, (cr8 & 0xF) << 4);
        refresh();
    }

    private int pendingExtInt() {
        DualPic pic;
        synchronized (this) {
            if (extInt.latched() >= 0) {
                return extInt.latched();
            }
            if (!extInt.requested(page.get(LVT_LINT0), base.enabled())) {
                return fast;
            }
            pic = extInt.pic();
        }
        int vector = pic.interruptAcknowledge(); // takes the PIC's lock: not under ours
        synchronized (this) {
            extInt.latch(vector);
            refresh();
            return extInt.latched();
        }
    }

    // ---- Registers ----

    /** The APIC base MSR's address: where this APIC's page is. */
    public long mmioBase() {
        return base.address();
    }

    /** Whether a guest-physical access at {@code address} is this APIC's (hardware-enabled, in its page). */
    public boolean decodes(long address) {
        long page = base.address();
        return base.enabled() && address >= page && address < page + MMIO_SIZE;
    }

    /** A read of {@code size} bytes at {@code offset} from the base; as KVM, bytes 0-3 of a slot, else 0. */
    public long mmioRead(int offset, int size) {
        int align = offset & 0xF;
        if (offset < 0 || offset >= LapicState.REG_BYTES || align + size > 4) {
            return 0;
        }
        return ApicRegisterPage.bytesOf(readRegister(offset & ~0xF), align, size);
    }

    /** A write of {@code size} bytes at {@code offset}; as KVM, only aligned 32-bit writes have an effect. */
    public void mmioWrite(int offset, int size, long value) {
        if (size == 4 && (offset & 0xF) == 0 && offset >= 0 && offset < LapicState.REG_BYTES) {
            writeRegister(offset, (int) value);
        }
    }

    /** The 32-bit register at {@code offset} (a multiple of 16) as the guest reads it. */
    public synchronized int readRegister(int offset) {
        return switch (offset) {
            case PPR -> page.processorPriority();
            case APR, EOI, RRD -> 0;
            case TIMER_CURRENT -> {
                long now = clock.getAsLong();
                pollTimerLocked(now);
                yield (int) timer.currentCount(now);
            }
            default -> offset >= 0 && offset < LapicState.REG_BYTES ? page.get(offset) : 0;
        };
    }

    /** A guest write of the 32-bit register at {@code offset} (a multiple of 16). */
    public void writeRegister(int offset, int value) {
        int eoiVector = -1;
        int icrLow = -1;
        int icrHigh = 0;
        synchronized (this) {
            int oldLvtTimer = page.get(LVT_TIMER);
            if (page.writeStored(offset, value)) {
                if (offset == LVT_TIMER) {
                    timer.lvtWritten(oldLvtTimer);
                }
                refresh(); // TPR, LINT0 and an unmasked LVT change what is deliverable
                return;
            }
            switch (offset) {
                case EOI -> {
                    eoiVector = page.endOfInterrupt();
                    refresh();
                }
                case SVR -> {
                    page.writeSvr(value);
                    refresh();
                }
                case ESR -> page.writeEsr();
                case ICR_LOW -> {
                    page.set(ICR_LOW, value & ~ICR_DELIVERY_STATUS); // delivery is instant: never "pending"
                    int mode = (value >>> ICR_DELIVERY_MODE_SHIFT) & 7;
                    if ((mode == ApicBus.FIXED || mode == ApicBus.LOWEST_PRIORITY) && (value & ICR_VECTOR) < 16) {
                        signalError(ESR_SEND_ILLEGAL_VECTOR);
                    } else {
                        icrLow = page.get(ICR_LOW);
                        icrHigh = page.get(ICR_HIGH);
                    }
                }
                case TIMER_INITIAL -> timer.writeInitialCount(clock.getAsLong(), value);
                case TIMER_DIVIDE -> timer.writeDivide(clock.getAsLong(), value);
                default -> { } // read-only or reserved: ignored, as KVM does
            }
        }
        if (eoiVector >= 0) {
            bus.broadcastEoi(eoiVector);
        }
        if (icrLow != -1) {
            bus.sendIpi(this, icrLow, icrHigh);
        }
    }

    // ---- Delivery ----

    /** A message from the bus; false if this APIC dropped it. Kicks the vCPU when something became pending. */
    boolean accept(int mode, int vector, boolean levelTriggered, boolean assertLevel) {
        return changeAndKick(() -> acceptLocked(mode, vector, levelTriggered, assertLevel));
    }

    /** Runs {@code change} under the monitor, then kicks the vCPU if it made something new pending. */
    private <T> T changeAndKick(Supplier<T> change) {
        T result;
        boolean news;
        synchronized (this) {
            int fastBefore = fast;
            int eventsBefore = events.pending();
            result = change.get();
            news = (fast != fastBefore && fast != -1) || events.pending() != eventsBefore;
        }
        if (news) {
            kick.run();
        }
        return result;
    }

    private boolean acceptLocked(int mode, int vector, boolean levelTriggered, boolean assertLevel) {
        switch (mode) {
            case ApicBus.FIXED, ApicBus.LOWEST_PRIORITY -> {
                if (!page.softwareEnabled()) {
                    return false; // as KVM: a software-disabled APIC drops fixed interrupts
                }
                if (vector < 16) {
                    signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
                    return false;
                }
                page.request(vector, levelTriggered);
                refresh();
            }
            case ApicBus.NMI -> events.raiseNmi();
            case ApicBus.INIT -> {
                if (levelTriggered && !assertLevel) {
                    return false; // INIT level de-assert only resynchronizes arbitration IDs
                }
                events.raiseInit();
            }
            case ApicBus.STARTUP -> events.raiseSipi(vector);
            default -> {
                return false; // SMI is not emulated; ExtINT arrives only through LINT0
            }
        }
        return true;
    }

    /** Delivers through a local vector table entry (timer, error, LINT) unless it is masked. */
    private void deliverLvt(int lvtOffset) {
        int lvt = page.get(lvtOffset);
        if (!base.enabled() || (lvt & LVT_MASKED) != 0) {
            return;
        }
        int mode = (lvt & LVT_DELIVERY_MODE) >>> 8;
        if (mode == ApicBus.FIXED || mode == ApicBus.NMI) {
            acceptLocked(mode, lvt & LVT_VECTOR, (lvt & LVT_LEVEL_TRIGGER) != 0, true);
        }
    }

    private void signalError(int esrBit) {
        int vector = page.recordError(esrBit);
        if (base.enabled() && vector >= 0) {
            page.request(vector, false);
            refresh();
        }
    }

    /**
     * The level of local interrupt pin LINT0 or LINT1 ({@link #connectPic} wires the 8259's INTR to
     * LINT0). Fixed and NMI entries deliver on a rising edge; an ExtINT entry follows the level.
     */
    public void setLint(int pin, boolean level) {
        if (pin != 0 && pin != 1) {
            throw new IllegalArgumentException("LINT" + pin);
        }
        changeAndKick(() -> {
            boolean rising = level && !(pin == 0 ? extInt.intr() : lint1);
            if (pin == 0) {
                extInt.setIntr(level);
            } else {
                lint1 = level;
            }
            if (rising) {
                deliverLvt(pin == 0 ? LVT_LINT0 : LVT_LINT1);
            }
            refresh();
            return true;
        });
    }

    /** Recomputes {@link #fast} after IRR, ISR, TPR, LINT0 or an enable changed; wakes a waiting vCPU. */
    private void refresh() {
        boolean enabled = base.enabled();
        int next = extInt.latched() >= 0 || extInt.requested(page.get(LVT_LINT0), enabled) ? EXTINT_CHECK
                : enabled ? page.deliverableVector() : -1;
        int before = fast;
        fast = next;
        if (next != -1 && next != before) {
            wake.signal();
        }
    }

    /** Whether a message to {@code destination} in the given mode is for this APIC (see {@link ApicBus}). */
    synchronized boolean matchesDestination(int destination, boolean logical) {
        return base.enabled() && page.matchesDestination(destination, logical);
    }

    boolean isHardwareEnabled() {
        return base.enabled();
    }

    synchronized boolean isSoftwareEnabled() {
        return base.enabled() && page.softwareEnabled();
    }

    // ---- Events for the runtime: NMI, INIT, SIPI ----

    /** The {@link #EVENT_NMI}, {@link #EVENT_INIT}, {@link #EVENT_SIPI} bits pending; one volatile read. */
    public int pendingEvents() {
        return events.pending();
    }

    /** Takes a pending NMI (NMI IPI, IOAPIC NMI entry, LINT in NMI mode); the CPU delivers it. */
    @Override
    public boolean takeNmi() {
        return events.take(EVENT_NMI);
    }

    /**
     * Takes a pending INIT and resets this APIC as INIT does (all but the ID and APIC base, SDM 10.4.7.3);
     * the runtime resets the CPU and makes it wait for a SIPI.
     */
    public synchronized boolean takeInit() {
        if (!events.take(EVENT_INIT)) {
            return false;
        }
        resetRegisters(true);
        return true;
    }

    /** Takes a pending start-up IPI's vector (the AP starts at {@code vector << 12}), or -1. */
    public int takeSipi() {
        return events.takeSipi();
    }

    // ---- Timer and waiting ----

    /**
     * Fires the timer if its deadline passed by {@code now} (on the bus clock); the vCPU thread calls it at
     * instruction-boundary checks. One volatile read while the deadline is ahead.
     */
    public void pollTimer(long now) {
        if (now < timer.deadline()) {
            return;
        }
        synchronized (this) {
            pollTimerLocked(now);
        }
    }

    private void pollTimerLocked(long now) {
        if (timer.expire(now)) {
            deliverLvt(LVT_TIMER);
        }
    }

    /** The next timer expiry on the bus clock, or {@link Long#MAX_VALUE} when the timer is not armed. */
    public long nextTimerDeadlineNanos() {
        return timer.deadline();
    }

    /**
     * A write of IA32_TSC_DEADLINE, converted by the runtime from TSC ticks to {@code deadlineNanos} on the
     * bus clock ({@link Long#MAX_VALUE} for a write of 0: disarm); ignored unless the LVT timer is in
     * TSC-deadline mode (SDM 11.5.4.1).
     */
    public synchronized void setTscDeadline(long deadlineNanos) {
        timer.armAt(deadlineNanos);
    }

    /**
     * Blocks the vCPU thread (HLT with interrupts enabled) until a maskable interrupt is deliverable or
     * an NMI, INIT or SIPI is pending, firing the timer on the way; or until {@code timeoutNanos} pass on
     * the bus clock, or {@link #wakeUp()}. Returns whether an interrupt or event is pending.
     */
    public boolean awaitInterrupt(long timeoutNanos) throws InterruptedException {
        return awaitInterrupt(timeoutNanos, true);
    }

    /** As {@link #awaitInterrupt(long)}; with {@code maskable} false (HLT with IF clear) only NMI, INIT, SIPI. */
    public boolean awaitInterrupt(long timeoutNanos, boolean maskable) throws InterruptedException {
        return wake.await(clock, timeoutNanos, now -> {
            pollTimer(now);
            return (maskable && fast != -1) || events.pending() != 0;
        }, timer::deadline);
    }

    /** Ends the current, or else the next, {@link #awaitInterrupt} early (it returns false). Any thread. */
    public void wakeUp() {
        wake.wakeUp();
    }

    // ---- APIC base MSR ----

    /** IA32_APIC_BASE as RDMSR reads it. */
    @Override
    public long apicBaseMsr() {
        return base.value();
    }

    /**
     * A WRMSR of IA32_APIC_BASE; false means #GP (reserved bits, or x2APIC enable, not emulated). Enabling
     * sets the ID back to the initial APIC ID (KVM). Disabling keeps the registers, but the APIC stops
     * decoding its page and receiving messages, and the PIC's INTR reaches the CPU directly.
     */
    @Override
    public boolean setApicBaseMsr(long value) {
        if (ApicBaseMsr.refusal(value) != null) {
            return false;
        }
        synchronized (this) {
            if ((value & ApicBaseMsr.ENABLE) != 0 && !base.enabled()) {
                page.set(ID, initialApicId << 24);
            }
            base.set(value);
            refresh();
        }
        return true;
    }

    /** Power-up ({@code init} false) or INIT reset of the registers, as KVM's {@code kvm_lapic_reset}. */
    private void resetRegisters(boolean init) {
        page.reset(init ? page.get(ID) : initialApicId << 24, base.bootstrap());
        timer.reset();
        extInt.dropLatch();
        refresh();
    }

    // ---- Save and restore ----

    /**
     * The register page in KVM's {@code struct kvm_lapic_state} layout: the ID in bits 31:24 of 0x20,
     * PPR as computed, the timer's current count at 0x390 as KVM_GET_LAPIC stores it.
     */
    public LapicState save() {
        return changeAndKick(() -> { // usually from another thread: a timer that fires here kicks
            long now = clock.getAsLong();
            pollTimerLocked(now);
            return page.toState(PPR, page.processorPriority(), TIMER_CURRENT, (int) timer.currentCount(now));
        });
    }

    /**
     * Takes back a saved page, this runtime's or KVM's, with the APIC base MSR saved beside it (KVM: in
     * the special registers). Ordering: the APIC base first (it decides hardware enable, as KVM sets the
     * base before the page), then the registers, then the timer, which expires {@code TMCCT * divide} ns
     * after now (see {@link ApicTimer}). Pending NMI/INIT/SIPI and a latched ExtINT are dropped.
     *
     * @throws IllegalArgumentException for an x2APIC-mode or malformed APIC base
     */
    public void restore(long apicBaseMsr, LapicState state) {
        String refusal = ApicBaseMsr.refusal(apicBaseMsr);
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
        synchronized (this) {
            base.set(apicBaseMsr);
            long savedCount = page.load(state);
            timer.resume(clock.getAsLong(), savedCount);
            extInt.dropLatch();
            events.clear();
            refresh();
        }
    }
}
