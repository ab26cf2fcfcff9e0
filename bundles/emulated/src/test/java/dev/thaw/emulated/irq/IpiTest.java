package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Inter-processor interrupts through the ICR. */
class IpiTest {

    private final AtomicLong now = new AtomicLong();
    private final ApicBus bus = new ApicBus(now::get);
    private final List<String> startups = new ArrayList<>();
    private final AtomicInteger kicks1 = new AtomicInteger();
    private final LocalApic bsp = bus.createLocalApic(0, true, () -> { });
    private final LocalApic ap1 = bus.createLocalApic(1, false, kicks1::incrementAndGet);
    private final LocalApic ap2 = bus.createLocalApic(2, false, () -> { });

    IpiTest() {
        for (LocalApic a : List.of(bsp, ap1, ap2)) {
            a.writeRegister(SVR, 0x1FF);
        }
        bus.setStartupListener(new StartupListener() {
            @Override
            public void onInit(int apicId) {
                startups.add("INIT " + apicId);
            }

            @Override
            public void onSipi(int apicId, int vector) {
                startups.add("SIPI " + apicId + " 0x" + Integer.toHexString(vector));
            }
        });
    }

    private void send(int icrHigh, int icrLow) {
        bsp.writeRegister(ICR_HIGH, icrHigh);
        bsp.writeRegister(ICR_LOW, icrLow);
    }

    private List<Integer> pending() {
        return List.of(bsp.pendingVector(), ap1.pendingVector(), ap2.pendingVector());
    }

    @Test
    void fixedPhysical() {
        send(1 << 24, 0x4061);
        assertEquals(List.of(-1, 0x61, -1), pending());
        assertEquals(1, kicks1.get(), "the target vCPU is kicked");
        assertEquals(0, bsp.readRegister(ICR_LOW) & ICR_DELIVERY_STATUS, "delivered at once");
        assertEquals(0x4061, bsp.readRegister(ICR_LOW));
    }

    @Test
    void fixedLogicalFlat() {
        ap1.writeRegister(LDR, 0x0200_0000);
        ap2.writeRegister(LDR, 0x0400_0000);
        send(0x0400_0000, 0x4000 | ICR_LOGICAL | 0x62);
        assertEquals(List.of(-1, -1, 0x62), pending());
    }

    @Test
    void shorthands() {
        send(0, 0x4000 | SHORTHAND_SELF << ICR_SHORTHAND_SHIFT | 0x70);
        assertEquals(List.of(0x70, -1, -1), pending());
        send(0, 0x4000 | SHORTHAND_ALL_BUT_SELF << ICR_SHORTHAND_SHIFT | 0x71);
        assertEquals(List.of(0x70, 0x71, 0x71), pending());
        send(0, 0x4000 | SHORTHAND_ALL << ICR_SHORTHAND_SHIFT | 0x72);
        assertEquals(List.of(0x72, 0x72, 0x72), pending());
        send(0xFF00_0000, 0x4073); // physical broadcast
        assertEquals(List.of(0x73, 0x73, 0x73), pending());
    }

    @Test
    void initAndStartupAreRecordedForTheRuntime() {
        send(2 << 24, 0x4500); // INIT assert
        send(2 << 24, 0x8500); // INIT level de-assert: ignored
        send(2 << 24, 0x4608); // SIPI, vector 8
        send(2 << 24, 0x4608);
        assertEquals(List.of("INIT 2", "SIPI 2 0x8", "SIPI 2 0x8"), startups);
        assertEquals(LocalApic.EVENT_INIT | LocalApic.EVENT_SIPI, ap2.pendingEvents());
        assertEquals(0, ap1.pendingEvents());
        ap2.writeRegister(TPR, 0x30);
        assertTrue(ap2.takeInit());
        assertEquals(0, ap2.readRegister(TPR), "INIT resets the APIC");
        assertEquals(0xFF, ap2.readRegister(SVR));
        assertEquals(2 << 24, ap2.readRegister(ID), "but not its ID");
        assertFalse(ap2.takeInit());
        assertEquals(8, ap2.takeSipi());
        assertEquals(-1, ap2.takeSipi());
    }

    @Test
    void aSipiBeforeInitIsForgotten() {
        send(1 << 24, 0x4609);
        send(1 << 24, 0x4500);
        assertEquals(LocalApic.EVENT_INIT, ap1.pendingEvents());
        assertEquals(-1, ap1.takeSipi());
    }

    @Test
    void nmiIpi() {
        send(1 << 24, 0x4400);
        assertTrue(ap1.takeNmi());
        assertEquals(1, kicks1.get());
    }

    @Test
    void illegalVectorIsNotSent() {
        send(1 << 24, 0x400F);
        assertEquals(List.of(-1, -1, -1), pending());
        bsp.writeRegister(ESR, 0);
        assertEquals(ESR_SEND_ILLEGAL_VECTOR, bsp.readRegister(ESR));
    }

    @Test
    void levelTriggeredIpiSetsTmr() {
        send(1 << 24, 0xC065);
        assertEquals(0x65, ap1.pendingVector());
        assertEquals(1 << (0x65 & 31), ap1.readRegister(TMR + 0x30));
    }
}
