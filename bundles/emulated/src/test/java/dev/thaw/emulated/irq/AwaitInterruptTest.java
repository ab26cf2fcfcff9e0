package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A vCPU thread halted in {@link LocalApic#awaitInterrupt}; no test depends on real time passing. */
class AwaitInterruptTest {

    /** Own threads: the common pool may have a single thread on a small machine. */
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().factory());
    private final AtomicLong now = new AtomicLong(1_000_000L);
    private final ApicBus bus = new ApicBus(now::get);
    private final LocalApic apic = bus.createLocalApic(0, true, () -> { });

    AwaitInterruptTest() {
        apic.writeRegister(SVR, 0x1FF);
    }

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void returnsAtOnceWhenSomethingIsPending() throws Exception {
        assertFalse(apic.awaitInterrupt(0));
        bus.deliver(0, false, ApicBus.FIXED, 0x40, false);
        assertTrue(apic.awaitInterrupt(Long.MAX_VALUE));
    }

    @Test
    void firesTheTimerItWaitsFor() throws Exception {
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.writeRegister(TIMER_INITIAL, 1000);
        assertFalse(apic.awaitInterrupt(0));
        now.addAndGet(1000);
        assertTrue(apic.awaitInterrupt(0));
        assertEquals(0x20, apic.pendingVector());
    }

    @Test
    void interruptsDisabledWaitsOnlyForNmiInitSipi() throws Exception {
        bus.deliver(0, false, ApicBus.FIXED, 0x40, false);
        assertFalse(apic.awaitInterrupt(0, false));
        bus.deliver(0, false, ApicBus.NMI, 0, false);
        assertTrue(apic.awaitInterrupt(Long.MAX_VALUE, false));
    }

    @Test
    void aWakeUpBeforeTheWaitIsNotLost() throws Exception {
        apic.wakeUp();
        assertFalse(apic.awaitInterrupt(Long.MAX_VALUE));
    }

    @Test
    void deliveryFromAnotherThreadWakesTheWaiter() throws Exception {
        Thread[] vcpu = new Thread[1];
        CompletableFuture<Boolean> woke = CompletableFuture.supplyAsync(() -> {
            vcpu[0] = Thread.currentThread();
            try {
                return apic.awaitInterrupt(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, threads);
        awaitParked(vcpu);
        IoApic ioapic = bus.createIoApic();
        LocalApicTest.program(ioapic, 4, 0x24, 0);
        ioapic.setIrq(4, true);
        assertTrue(woke.get(30, TimeUnit.SECONDS));
        assertEquals(0x24, apic.pendingVector());
    }

    @Test
    void wakeUpFromAnotherThreadEndsTheWait() throws Exception {
        Thread[] vcpu = new Thread[1];
        CompletableFuture<Boolean> woke = CompletableFuture.supplyAsync(() -> {
            vcpu[0] = Thread.currentThread();
            try {
                return apic.awaitInterrupt(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, threads);
        awaitParked(vcpu);
        apic.wakeUp();
        assertFalse(woke.get(30, TimeUnit.SECONDS));
    }

    /** Spins until the waiting thread is parked, so the wake-up goes through unpark, not the first check. */
    private static void awaitParked(Thread[] vcpu) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (vcpu[0] == null || vcpu[0].getState() != Thread.State.WAITING
                && vcpu[0].getState() != Thread.State.TIMED_WAITING) {
            if (System.nanoTime() > giveUp) {
                throw new AssertionError("the vCPU thread never parked");
            }
            Thread.onSpinWait();
        }
    }
}
