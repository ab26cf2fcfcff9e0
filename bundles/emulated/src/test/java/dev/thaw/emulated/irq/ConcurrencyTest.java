package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * vCPU threads and a device thread at once: no deadlock between the APICs' and the IOAPIC's locks, and
 * no lost wake-up. Bounded by generous timeouts that only a hang reaches.
 */
class ConcurrencyTest {

    private static final int ROUNDS = 20_000;

    /** Own threads: the common pool may have a single thread on a small machine. */
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().factory());
    private final ApicBus bus = ApicBus.onSystemClock();
    private final LocalApic a = bus.createLocalApic(0, true, () -> { });
    private final LocalApic b = bus.createLocalApic(1, false, () -> { });
    private final IoApic ioapic = bus.createIoApic();

    ConcurrencyTest() {
        a.writeRegister(SVR, 0x1FF);
        b.writeRegister(SVR, 0x1FF);
    }

    /** Each vCPU IPIs the other and takes and EOIs what it gets, while a device toggles a level pin to both. */
    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void crossIpisAndLevelEoisDoNotDeadlock() throws Exception {
        LocalApicTest.program(ioapic, 9, IoApic.LEVEL | IoApic.LOGICAL | 0x39, 0xFF);
        a.writeRegister(LDR, 0x0100_0000);
        b.writeRegister(LDR, 0x0200_0000);
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<Void> device = CompletableFuture.runAsync(() -> {
            boolean level = false;
            while (!stop.get()) {
                level = !level;
                ioapic.setIrq(9, level);
            }
            ioapic.setIrq(9, false);
        }, threads);
        CompletableFuture<Void> cpuA = CompletableFuture.runAsync(() -> run(a, 1), threads);
        CompletableFuture<Void> cpuB = CompletableFuture.runAsync(() -> run(b, 0), threads);
        try {
            CompletableFuture.allOf(cpuA, cpuB).get(60, TimeUnit.SECONDS);
        } finally {
            stop.set(true);
        }
        device.get(60, TimeUnit.SECONDS);
        drain(a);
        drain(b);
        assertEquals(0, ioapic.save().redirectionTable()[9] & IoApic.REMOTE_IRR, "every delivery was EOIed");
    }

    private static void run(LocalApic self, int other) {
        for (int i = 0; i < ROUNDS; i++) {
            self.writeRegister(ICR_HIGH, other << 24);
            self.writeRegister(ICR_LOW, 0x4050);
            drain(self);
        }
    }

    private static void drain(LocalApic apic) {
        for (int v = apic.pendingVector(); v >= 0; v = apic.pendingVector()) {
            apic.acknowledge(v);
            apic.writeRegister(EOI, 0);
        }
    }

    /** A halted vCPU takes every interrupt a device thread sends, one at a time: none is slept through. */
    @Test
    void noWakeUpIsLost() throws Exception {
        LocalApicTest.program(ioapic, 4, 0x24, 1);
        AtomicInteger taken = new AtomicInteger();
        int n = 5_000;
        CompletableFuture<Void> vcpu = CompletableFuture.runAsync(() -> {
            try {
                while (taken.get() < n) {
                    assertTrue(b.awaitInterrupt(Long.MAX_VALUE));
                    drainCounting(b, taken);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, threads);
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int i = 1; i <= n; i++) {
            ioapic.setIrq(4, true);
            ioapic.setIrq(4, false);
            while (taken.get() < i) {
                assertTrue(System.nanoTime() < giveUp, "interrupt " + i + " was never taken");
                Thread.onSpinWait();
            }
        }
        vcpu.get(60, TimeUnit.SECONDS);
        assertEquals(n, taken.get());
    }

    private static void drainCounting(LocalApic apic, AtomicInteger taken) {
        for (int v = apic.pendingVector(); v >= 0; v = apic.pendingVector()) {
            apic.acknowledge(v);
            apic.writeRegister(EOI, 0);
            taken.incrementAndGet();
        }
    }
}
