package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;
import static dev.thaw.emulated.irq.LocalApicTest.program;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.thaw.api.state.IoapicState;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IoApicTest {

    private final AtomicLong now = new AtomicLong();
    private final ApicBus bus = new ApicBus(now::get);
    private final LocalApic apic0 = bus.createLocalApic(0, true, () -> { });
    private final LocalApic apic1 = bus.createLocalApic(1, false, () -> { });
    private final LocalApic apic2 = bus.createLocalApic(2, false, () -> { });
    private final IoApic ioapic = bus.createIoApic();

    IoApicTest() {
        for (LocalApic a : List.of(apic0, apic1, apic2)) {
            a.writeRegister(SVR, 0x1FF);
        }
    }

    private int read(int register) {
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, register);
        return (int) ioapic.mmioRead(IoApic.IOWIN, 4);
    }

    private static int take(LocalApic a) {
        int v = a.pendingVector();
        if (v >= 0) {
            a.acknowledge(v);
        }
        return v;
    }

    @Test
    void identificationRegistersAreKvms() {
        assertEquals(0x0017_0011, read(1), "version 0x11, 24 pins");
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, 0);
        ioapic.mmioWrite(IoApic.IOWIN, 4, 0x0A00_0000);
        assertEquals(0x0A00_0000, read(0));
        assertEquals(0x0A00_0000, read(2), "arbitration ID follows the ID");
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, 0x1FF);
        assertEquals(0xFF, ioapic.mmioRead(IoApic.IOREGSEL, 4));
        assertEquals(0, read(0x10 + 2 * 24), "beyond the last entry");
        assertEquals(IoApic.MASKED, read(0x10 + 2 * 23), "entries start masked");
    }

    @Test
    void theTestGuestsUartRouting() {
        // kernel.c: pin 4 -> vector 0x24, fixed, physical, APIC ID 0, edge, active high
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, 0x10 + 2 * 4 + 1);
        ioapic.mmioWrite(IoApic.IOWIN, 4, 0);
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, 0x10 + 2 * 4);
        ioapic.mmioWrite(IoApic.IOWIN, 4, 0x24);
        ioapic.setIrq(4, true);
        assertEquals(0x24, take(apic0));
        assertEquals(-1, apic1.pendingVector());
        ioapic.setIrq(4, true);
        assertEquals(-1, apic0.pendingVector(), "no new edge while the line stays high");
        ioapic.setIrq(4, false);
        ioapic.setIrq(4, true);
        assertEquals(-1, apic0.pendingVector(), "0x24 is still in service");
        assertEquals(1 << 4, apic0.readRegister(IRR + 0x10), "but requested again");
        apic0.writeRegister(EOI, 0);
        assertEquals(0x24, apic0.pendingVector());
    }

    @Test
    void maskedEdgeIsLostMaskedLevelWaits() {
        program(ioapic, 5, IoApic.MASKED | 0x45, 0);
        program(ioapic, 6, IoApic.MASKED | IoApic.LEVEL | 0x46, 0);
        ioapic.setIrq(5, true);
        ioapic.setIrq(6, true);
        assertEquals(-1, apic0.pendingVector());
        assertEquals(0b110_0000, ioapic.save().irr(), "irr holds the line levels");
        program(ioapic, 5, 0x45, 0);
        assertEquals(-1, apic0.pendingVector(), "unmasking an edge pin delivers nothing");
        program(ioapic, 6, IoApic.LEVEL | 0x46, 0);
        assertEquals(0x46, take(apic0), "unmasking a level pin with its line high delivers");
    }

    @Test
    void levelPinWaitsForEoiAndRedeliversWhileHigh() {
        program(ioapic, 10, IoApic.LEVEL | 0x5A, 1);
        ioapic.setIrq(10, true);
        assertEquals(0x5A, take(apic1));
        assertNotEquals(0, ioapic.save().redirectionTable()[10] & IoApic.REMOTE_IRR);
        ioapic.setIrq(10, true);
        assertEquals(-1, apic1.pendingVector(), "remote IRR blocks");
        apic1.writeRegister(EOI, 0);
        assertEquals(0x5A, take(apic1), "still high at EOI: again");
        ioapic.setIrq(10, false);
        apic1.writeRegister(EOI, 0);
        assertEquals(0, ioapic.save().redirectionTable()[10] & IoApic.REMOTE_IRR);
        assertEquals(-1, apic1.pendingVector());
    }

    @Test
    void remoteIrrIsReadOnlyAndClearedForEdgeEntries() {
        program(ioapic, 3, IoApic.LEVEL | 0x33, 0);
        ioapic.setIrq(3, true);
        program(ioapic, 3, IoApic.LEVEL | 0x33, 0);
        assertNotEquals(0, read(0x16) & IoApic.REMOTE_IRR, "a write cannot clear remote IRR");
        program(ioapic, 3, 0x33, 0);
        assertEquals(0, read(0x16) & IoApic.REMOTE_IRR, "switching to edge clears it (KVM, Linux relies on it)");
    }

    @Test
    void physicalLogicalBroadcastAndLowestPriority() {
        apic0.writeRegister(LDR, 0x0100_0000);
        apic1.writeRegister(LDR, 0x0200_0000);
        apic2.writeRegister(LDR, 0x0400_0000);
        program(ioapic, 1, 0x41, 2); // physical 2
        program(ioapic, 2, IoApic.LOGICAL | 0x42, 0x06); // logical flat: apic1 and apic2
        program(ioapic, 7, 0x47, 0xFF); // physical broadcast
        program(ioapic, 8, (long) ApicBus.LOWEST_PRIORITY << 8 | IoApic.LOGICAL | 0x48, 0x06);
        ioapic.setIrq(1, true);
        assertEquals(List.of(-1, -1, 0x41), pending());
        ioapic.setIrq(2, true);
        assertEquals(List.of(-1, 0x42, 0x42), pending());
        ioapic.setIrq(7, true);
        assertEquals(List.of(0x47, 0x47, 0x47), pending());
        for (LocalApic a : List.of(apic0, apic1, apic2)) {
            while (take(a) >= 0) {
                a.writeRegister(EOI, 0);
            }
        }
        ioapic.setIrq(8, true);
        assertEquals(List.of(-1, 0x48, -1), pending(), "lowest priority: the first match");
    }

    private List<Integer> pending() {
        return List.of(apic0.pendingVector(), apic1.pendingVector(), apic2.pendingVector());
    }

    @Test
    void logicalClusterModel() {
        for (LocalApic a : List.of(apic0, apic1, apic2)) {
            a.writeRegister(DFR, 0x0FFF_FFFF); // cluster
        }
        apic0.writeRegister(LDR, 0x1100_0000); // cluster 1, member bit 0
        apic1.writeRegister(LDR, 0x1200_0000); // cluster 1, member bit 1
        apic2.writeRegister(LDR, 0x2100_0000); // cluster 2, member bit 0
        assertEquals(1, bus.deliver(0x21, true, ApicBus.FIXED, 0x50, false));
        assertEquals(0x50, apic2.pendingVector());
        assertEquals(2, bus.deliver(0x13, true, ApicBus.FIXED, 0x51, false));
        assertEquals(List.of(0x51, 0x51, 0x50), pending());
        assertEquals(0, bus.deliver(0x31, true, ApicBus.FIXED, 0x52, false));
    }

    @Test
    void nmiEntryRaisesAnEvent() {
        program(ioapic, 2, (long) ApicBus.NMI << 8, 1);
        ioapic.setIrq(2, true);
        assertEquals(LocalApic.EVENT_NMI, apic1.pendingEvents());
        assertEquals(-1, apic1.pendingVector());
    }

    @Test
    void eoiRegisterOfVersion0x20IsNotDecoded() {
        program(ioapic, 9, IoApic.LEVEL | 0x39, 0);
        ioapic.setIrq(9, true);
        ioapic.mmioWrite(0x40, 4, 0x39);
        assertNotEquals(0, read(0x22) & IoApic.REMOTE_IRR);
    }

    @Test
    void saveRestoreRoundTrip() {
        program(ioapic, 4, 0x24, 0);
        program(ioapic, 9, IoApic.LEVEL | 0x39, 1);
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, 0);
        ioapic.mmioWrite(IoApic.IOWIN, 4, 0x0300_0000);
        ioapic.setIrq(9, true);
        ioapic.setIrq(4, true);
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, 0x13);
        IoapicState saved = ioapic.save();
        assertEquals(IoApic.DEFAULT_BASE, saved.baseAddress());
        assertEquals(3, saved.id());
        assertEquals(0x13, saved.ioregsel());
        assertEquals((1 << 9) | (1 << 4), saved.irr());

        ApicBus other = new ApicBus(now::get);
        LocalApic b0 = other.createLocalApic(0, true, () -> { });
        b0.writeRegister(SVR, 0x1FF);
        IoApic restored = other.createIoApic();
        restored.restore(saved);
        assertEquals(saved, restored.save());
        assertEquals(-1, b0.pendingVector(), "the edge on pin 4 was delivered before the save");
        restored.setIrq(4, true);
        assertEquals(-1, b0.pendingVector(), "and its line is still high: no new edge");
    }

    @Test
    void restoreDeliversPendingLevelPins() {
        long[] table = new long[IoApic.PINS];
        java.util.Arrays.fill(table, IoApic.MASKED);
        table[11] = IoApic.LEVEL | 0x3B; // destination 0, remote IRR clear
        ioapic.restore(new IoapicState(IoApic.DEFAULT_BASE, 0, 0, 1 << 11, table));
        assertEquals(0x3B, apic0.pendingVector());
        assertNotEquals(0, ioapic.save().redirectionTable()[11] & IoApic.REMOTE_IRR);
    }
}
