package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.LVT_TIMER;
import static dev.thaw.emulated.irq.ApicRegisters.LVT_TIMER_MODE;
import static dev.thaw.emulated.irq.ApicRegisters.TIMER_DIVIDE;
import static dev.thaw.emulated.irq.ApicRegisters.TIMER_INITIAL;
import static dev.thaw.emulated.irq.ApicRegisters.TIMER_PERIODIC;
import static dev.thaw.emulated.irq.ApicRegisters.TIMER_TSC_DEADLINE;

/**
 * The local APIC timer: the initial count, divide configuration and LVT timer registers (kept in the
 * APIC's page) and the deadline they imply, in nanoseconds of the {@link ApicBus}'s clock.
 *
 * <p>Convention (KVM's, so a guest's calibration and a saved current count mean the same on both
 * runtimes): the APIC bus runs at 1 GHz, so the counter decrements once every {@code divide} ns; an
 * initial count {@code n} expires after {@code n * divide} ns, and the current count is the remaining
 * ns divided by the divisor (KVM's {@code apic_get_tmcct}). Like KVM ({@code min_timer_period_us}), a
 * periodic timer fires at most every {@link #MIN_PERIODIC_NANOS}. In TSC-deadline mode the runtime
 * converts the MSR's TSC value to a deadline on the same clock ({@link #armAt}).
 *
 * <p>{@link LocalApic} guards it; only {@link #deadline()} may be read without the lock. Times compare directly ({@code now < deadline}),
 * which holds for {@link System#nanoTime()} short of its 292-year wrap.
 */
final class ApicTimer {

    /** The deadline of a timer that is not armed. */
    static final long NONE = Long.MAX_VALUE;
    /** KVM's default {@code min_timer_period_us} (200 us): the shortest periodic interval. */
    static final long MIN_PERIODIC_NANOS = 200_000;

    private final ApicRegisterPage page;
    /** Volatile for the vCPU's lock-free check at instruction boundaries. */
    private volatile long deadline = NONE;
    /** The length of a full count in ns (0: no count running). */
    private long periodNanos;
    private int divide = divisor(0);

    ApicTimer(ApicRegisterPage page) {
        this.page = page;
    }

    /** The divisor the divide configuration register selects (bits 0, 1 and 3): 2, 4, ... 128, 1. */
    static int divisor(int tdcr) {
        int code = (tdcr & 3) | ((tdcr & 8) >> 1);
        return 1 << ((code + 1) & 7);
    }

    /** The next expiry, or {@link #NONE}. */
    long deadline() {
        return deadline;
    }

    /** Stops the count and takes the divisor from the divide register (reset, restore). */
    void reset() {
        stop();
        divide = divisor(page.get(TIMER_DIVIDE));
    }

    /** A TMICT write: starts a count of {@code value} at {@code now}; 0 stops. Ignored in TSC-deadline mode. */
    void writeInitialCount(long now, int value) {
        if (mode() == TIMER_TSC_DEADLINE) {
            return;
        }
        page.set(TIMER_INITIAL, value);
        periodNanos = period();
        deadline = periodNanos == 0 ? NONE : now + periodNanos;
    }

    /**
     * A TDCR write: a running count keeps its remaining ticks and counts them at the new rate (KVM's
     * {@code update_target_expiration}).
     */
    void writeDivide(long now, int value) {
        page.set(TIMER_DIVIDE, value & 0xB);
        int newDivide = divisor(value);
        if (newDivide == divide) {
            return;
        }
        long remainingTicks = Math.max(0, deadline - now) / divide;
        divide = newDivide;
        if (deadline != NONE && periodNanos > 0) {
            periodNanos = period();
            deadline = now + remainingTicks * newDivide;
        }
    }

    /**
     * After an LVT timer write: entering or leaving TSC-deadline mode stops the timer and clears the
     * initial count (SDM 11.5.4.1; KVM). One-shot and periodic switch at the next expiry.
     */
    void lvtWritten(int oldLvt) {
        if (((oldLvt & LVT_TIMER_MODE) == TIMER_TSC_DEADLINE) != (mode() == TIMER_TSC_DEADLINE)) {
            stop();
            page.set(TIMER_INITIAL, 0);
        }
    }

    /** Arms a one-shot at an absolute time ({@link #NONE}: disarms) in TSC-deadline mode; else ignored. */
    void armAt(long deadlineNanos) {
        if (mode() == TIMER_TSC_DEADLINE) {
            periodNanos = 0;
            deadline = deadlineNanos;
        }
    }

    void stop() {
        periodNanos = 0;
        deadline = NONE;
    }

    /**
     * Whether the timer expired by {@code now}; if so a periodic timer moves to its first deadline after
     * {@code now} (missed periods coalesce, as one IRR bit would) and any other disarms.
     */
    boolean expire(long now) {
        if (now < deadline) {
            return false;
        }
        if (mode() == TIMER_PERIODIC && periodNanos > 0) {
            long periods = (now - deadline) / periodNanos + 1;
            deadline += periods * periodNanos;
        } else {
            deadline = NONE;
        }
        return true;
    }

    /** The current count register at {@code now}: remaining ns over the divisor, at most the initial count. */
    long currentCount(long now) {
        if (periodNanos == 0 || deadline == NONE || mode() == TIMER_TSC_DEADLINE) {
            return 0;
        }
        long remaining = deadline - now;
        if (remaining <= 0) {
            if (mode() != TIMER_PERIODIC) {
                return 0;
            }
            remaining = periodNanos - (now - deadline) % periodNanos;
        }
        return Math.min(remaining / divide, initialCount());
    }

    /**
     * Restarts the count from a restored page, {@code currentCount} ticks before expiry. As KVM's restore
     * ({@code __start_apic_timer(apic, APIC_TMCCT)}), a periodic count of 0 or above the initial count
     * restarts with a full period. A one-shot count of 0 had expired (its interrupt, if not yet taken, is
     * in the saved IRR) and stays expired.
     */
    void resume(long now, long currentCount) {
        reset();
        if (mode() == TIMER_TSC_DEADLINE) {
            return;
        }
        periodNanos = period();
        if (periodNanos == 0) {
            return;
        }
        long remaining = currentCount * divide;
        if (currentCount == 0 || currentCount > initialCount()) {
            remaining = mode() == TIMER_PERIODIC ? periodNanos : 0;
        }
        deadline = remaining == 0 ? NONE : now + Math.min(remaining, periodNanos);
    }

    private long period() {
        long nanos = initialCount() * divide;
        return mode() == TIMER_PERIODIC && nanos > 0 ? Math.max(nanos, MIN_PERIODIC_NANOS) : nanos;
    }

    private int mode() {
        return page.get(LVT_TIMER) & LVT_TIMER_MODE;
    }

    private long initialCount() {
        return page.get(TIMER_INITIAL) & 0xFFFF_FFFFL;
    }
}
