package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The local APIC timer on an injected clock: 1 tick per {@code divide} ns, as KVM counts. */
class ApicTimerTest {

    private static final long T0 = 5_000_000_000L;
    private final AtomicLong now = new AtomicLong(T0);
    private final ApicBus bus = new ApicBus(now::get);
    private final LocalApic apic = bus.createLocalApic(0, true, () -> { });

    ApicTimerTest() {
        apic.writeRegister(SVR, 0x1FF);
    }

    private void at(long t) {
        now.set(t);
        apic.pollTimer(t);
    }

    private int takeAndEoi() {
        int v = apic.pendingVector();
        if (v >= 0) {
            apic.acknowledge(v);
            apic.writeRegister(EOI, 0);
        }
        return v;
    }

    @Test
    void divisorEncoding() {
        int[][] table = {{0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1}};
        for (int[] row : table) {
            assertEquals(row[1], ApicTimer.divisor(row[0]), "TDCR 0x" + Integer.toHexString(row[0]));
        }
        assertEquals(2, ApicTimer.divisor(0x4), "bit 2 is not part of the code");
    }

    @ParameterizedTest
    @CsvSource({"0xB, 1", "0x0, 2", "0x1, 4", "0x2, 8", "0x3, 16", "0x8, 32", "0x9, 64", "0xA, 128"})
    void oneShotExpiresAfterCountTimesDivideNanos(String tdcr, int divide) {
        apic.writeRegister(TIMER_DIVIDE, Integer.decode(tdcr));
        apic.writeRegister(LVT_TIMER, 0x30); // one-shot, vector 0x30
        apic.writeRegister(TIMER_INITIAL, 1000);
        long expiry = T0 + 1000L * divide;
        assertEquals(expiry, apic.nextTimerDeadlineNanos());
        assertEquals(1000, apic.readRegister(TIMER_CURRENT));
        now.set(T0 + 250L * divide);
        assertEquals(750, apic.readRegister(TIMER_CURRENT));
        now.set(T0 + 999L * divide);
        assertEquals(1, apic.readRegister(TIMER_CURRENT));
        at(expiry - 1);
        assertEquals(-1, apic.pendingVector());
        at(expiry);
        assertEquals(0x30, takeAndEoi());
        assertEquals(0, apic.readRegister(TIMER_CURRENT));
        assertEquals(Long.MAX_VALUE, apic.nextTimerDeadlineNanos());
        at(expiry + 10_000L * divide);
        assertEquals(-1, apic.pendingVector(), "a one-shot fires once");
    }

    @ParameterizedTest
    @CsvSource({"0xB, 1", "0x0, 2", "0x1, 4", "0x2, 8", "0x3, 16", "0x8, 32", "0x9, 64", "0xA, 128"})
    void periodicReloadsEveryCountTimesDivideNanos(String tdcr, int divide) {
        long count = 1_000_000;
        long period = count * divide;
        apic.writeRegister(TIMER_DIVIDE, Integer.decode(tdcr));
        apic.writeRegister(LVT_TIMER, TIMER_PERIODIC | 0x20);
        apic.writeRegister(TIMER_INITIAL, (int) count);
        for (int i = 1; i <= 3; i++) {
            at(T0 + i * period - divide);
            assertEquals(-1, apic.pendingVector(), "one tick before tick " + i);
            assertEquals(1, apic.readRegister(TIMER_CURRENT), "one tick before tick " + i);
            at(T0 + i * period);
            assertEquals(0x20, takeAndEoi(), "tick " + i);
            assertEquals(T0 + (i + 1) * period, apic.nextTimerDeadlineNanos());
        }
        now.set(T0 + 3 * period + period / 4);
        assertEquals(count * 3 / 4, apic.readRegister(TIMER_CURRENT), "reloaded and counting down again");
    }

    @Test
    void currentCountDecreasesOneTickPerDivideNanos() {
        apic.writeRegister(TIMER_DIVIDE, 0x1); // divide by 4
        apic.writeRegister(LVT_TIMER, TIMER_PERIODIC | 0x20);
        apic.writeRegister(TIMER_INITIAL, 100_000);
        long previous = apic.readRegister(TIMER_CURRENT);
        assertEquals(100_000, previous);
        for (int step = 1; step <= 10; step++) {
            now.addAndGet(4_000);
            long current = apic.readRegister(TIMER_CURRENT);
            assertEquals(previous - 1_000, current);
            previous = current;
        }
    }

    @Test
    void missedPeriodsCoalesceIntoOneInterrupt() {
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, TIMER_PERIODIC | 0x20);
        apic.writeRegister(TIMER_INITIAL, 1_000_000);
        at(T0 + 5_500_000);
        assertEquals(0x20, takeAndEoi());
        assertEquals(-1, apic.pendingVector());
        assertEquals(T0 + 6_000_000, apic.nextTimerDeadlineNanos(), "the phase is kept");
        assertEquals(500_000, apic.readRegister(TIMER_CURRENT));
    }

    @Test
    void maskedTimerCountsButRequestsNothing() {
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, LVT_MASKED | TIMER_PERIODIC | 0x20);
        apic.writeRegister(TIMER_INITIAL, 1_000_000);
        at(T0 + 1_000_000);
        assertEquals(-1, apic.pendingVector());
        assertEquals(0, apic.readRegister(IRR + 0x10), "no IRR bit for vector 0x20");
        assertEquals(T0 + 2_000_000, apic.nextTimerDeadlineNanos(), "still running");
        apic.writeRegister(LVT_TIMER, TIMER_PERIODIC | 0x20);
        at(T0 + 2_000_000);
        assertEquals(0x20, takeAndEoi());
    }

    @Test
    void initialCountZeroStopsTheTimer() {
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.writeRegister(TIMER_INITIAL, 1000);
        apic.writeRegister(TIMER_INITIAL, 0);
        assertEquals(Long.MAX_VALUE, apic.nextTimerDeadlineNanos());
        at(T0 + 1_000_000);
        assertEquals(-1, apic.pendingVector());
        assertEquals(0, apic.readRegister(TIMER_CURRENT));
    }

    @Test
    void rewritingTheInitialCountRestarts() {
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.writeRegister(TIMER_INITIAL, 1000);
        now.set(T0 + 600);
        apic.writeRegister(TIMER_INITIAL, 1000);
        assertEquals(T0 + 1600, apic.nextTimerDeadlineNanos());
    }

    @Test
    void changingTheDivisorKeepsTheRemainingTicks() {
        apic.writeRegister(TIMER_DIVIDE, 0xB); // 1
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.writeRegister(TIMER_INITIAL, 1000);
        now.set(T0 + 400);
        apic.writeRegister(TIMER_DIVIDE, 0x2); // 8: 600 ticks left, now 8 ns each
        assertEquals(600, apic.readRegister(TIMER_CURRENT));
        assertEquals(T0 + 400 + 600 * 8, apic.nextTimerDeadlineNanos());
    }

    @Test
    void periodicIntervalIsAtLeastKvmsMinimum() {
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, TIMER_PERIODIC | 0x20);
        apic.writeRegister(TIMER_INITIAL, 10);
        assertEquals(T0 + ApicTimer.MIN_PERIODIC_NANOS, apic.nextTimerDeadlineNanos());
        assertEquals(10, apic.readRegister(TIMER_CURRENT), "the count never reads above the initial count");
    }

    @Test
    void tscDeadlineMode() {
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.writeRegister(TIMER_INITIAL, 1000);
        apic.writeRegister(LVT_TIMER, TIMER_TSC_DEADLINE | 0x20);
        assertEquals(0, apic.readRegister(TIMER_INITIAL), "entering TSC-deadline mode clears the count");
        assertEquals(Long.MAX_VALUE, apic.nextTimerDeadlineNanos());
        apic.writeRegister(TIMER_INITIAL, 1000);
        assertEquals(0, apic.readRegister(TIMER_INITIAL), "TMICT is ignored in TSC-deadline mode");
        apic.setTscDeadline(T0 + 777);
        assertEquals(T0 + 777, apic.nextTimerDeadlineNanos());
        assertEquals(0, apic.readRegister(TIMER_CURRENT));
        at(T0 + 777);
        assertEquals(0x20, takeAndEoi());
        assertEquals(Long.MAX_VALUE, apic.nextTimerDeadlineNanos());
        apic.setTscDeadline(T0 + 2000);
        apic.setTscDeadline(Long.MAX_VALUE);
        at(T0 + 3000);
        assertEquals(-1, apic.pendingVector(), "disarmed");
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.setTscDeadline(T0 + 4000);
        assertEquals(Long.MAX_VALUE, apic.nextTimerDeadlineNanos(), "ignored outside TSC-deadline mode");
    }

    @Test
    void theTestGuestsProgramming() {
        // guest/src/kernel.c: SVR 0x1ff, TDCR 0xb (divide by 1), LVT timer periodic 0x20, TMICT 0x100000
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, 0x20000 | 0x20);
        apic.writeRegister(TIMER_INITIAL, 0x100000);
        int ticks = 0;
        for (long t = T0; t <= T0 + 1_000_000_000L; t += 100_000) {
            at(t);
            if (takeAndEoi() == 0x20) {
                ticks++;
            }
        }
        assertEquals(1_000_000_000L / 0x100000, ticks, "about 954 ticks per second, as on KVM");
    }
}
