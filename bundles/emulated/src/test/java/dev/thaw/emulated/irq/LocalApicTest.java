package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LocalApicTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ApicBus bus = new ApicBus(now::get);
    private final AtomicInteger kicks = new AtomicInteger();
    private final LocalApic apic = bus.createLocalApic(0, true, kicks::incrementAndGet);

    private void enable(LocalApic a) {
        a.writeRegister(SVR, 0x1FF);
    }

    private void fixed(int vector) {
        bus.deliver(0, false, ApicBus.FIXED, vector, false);
    }

    private int take() {
        int v = apic.pendingVector();
        if (v >= 0) {
            apic.acknowledge(v);
        }
        return v;
    }

    @Test
    void powerUpStateIsKvms() {
        assertEquals(0x0005_0014, apic.readRegister(VERSION));
        assertEquals(0, apic.readRegister(ID));
        assertEquals(0xFF, apic.readRegister(SVR));
        assertEquals(0xFFFF_FFFF, apic.readRegister(DFR));
        assertEquals(LVT_MASKED, apic.readRegister(LVT_TIMER));
        assertEquals(0x700, apic.readRegister(LVT_LINT0), "the BSP's LINT0 is ExtINT (virtual wire)");
        assertEquals(0xFEE0_0900L, apic.apicBaseMsr());
        LocalApic ap = bus.createLocalApic(3, false, () -> { });
        assertEquals(3 << 24, ap.readRegister(ID));
        assertEquals(LVT_MASKED, ap.readRegister(LVT_LINT0));
        assertEquals(0xFEE0_0800L, ap.apicBaseMsr());
    }

    @Test
    void softwareDisabledApicDropsFixedInterrupts() {
        fixed(0x40);
        assertEquals(-1, apic.pendingVector());
        enable(apic);
        fixed(0x40);
        assertEquals(0x40, apic.pendingVector());
    }

    @Test
    void highestVectorFirstAndIsrNestingBlocksSameOrLowerClass() {
        enable(apic);
        fixed(0x31);
        fixed(0x52);
        fixed(0x55);
        assertEquals(0x55, take());
        assertEquals(0x50, apic.readRegister(PPR), "PPR is the in-service vector's class");
        assertEquals(-1, apic.pendingVector(), "0x52 is in the same class as the in-service 0x55");
        fixed(0x61);
        assertEquals(0x61, take(), "a higher class nests");
        apic.writeRegister(EOI, 0);
        assertEquals(-1, apic.pendingVector());
        apic.writeRegister(EOI, 0);
        assertEquals(0x52, take());
        apic.writeRegister(EOI, 0);
        assertEquals(0x31, take());
        apic.writeRegister(EOI, 0);
        assertEquals(-1, apic.pendingVector());
        assertEquals(0, apic.readRegister(PPR));
    }

    @Test
    void pprIsTprOrInServiceClass() {
        enable(apic);
        apic.writeRegister(TPR, 0x47);
        assertEquals(0x47, apic.readRegister(PPR));
        fixed(0x80);
        take();
        assertEquals(0x80, apic.readRegister(PPR));
        apic.writeRegister(TPR, 0x93);
        assertEquals(0x93, apic.readRegister(PPR));
    }

    @Test
    void taskPriorityBlocksLowerAndEqualClasses() {
        enable(apic);
        apic.setTaskPriority(5);
        assertEquals(0x50, apic.readRegister(TPR));
        assertEquals(5, apic.taskPriority());
        fixed(0x5F);
        assertEquals(-1, apic.pendingVector(), "class 5 is not above TPR class 5");
        fixed(0x60);
        assertEquals(0x60, apic.pendingVector());
        apic.setTaskPriority(6);
        assertEquals(-1, apic.pendingVector());
        apic.writeRegister(TPR, 0x40);
        assertEquals(0x60, take());
        apic.writeRegister(EOI, 0);
        assertEquals(0x5F, take());
    }

    @Test
    void eoiClearsTheHighestInServiceBitOnly() {
        enable(apic);
        fixed(0x40);
        take();
        fixed(0x90);
        take();
        assertTrue(isrHas(0x40) && isrHas(0x90));
        apic.writeRegister(EOI, 0);
        assertFalse(isrHas(0x90));
        assertTrue(isrHas(0x40));
    }

    private boolean isrHas(int vector) {
        return (apic.readRegister(ISR + 16 * (vector >>> 5)) >>> (vector & 31) & 1) != 0;
    }

    @Test
    void levelTriggeredEoiReachesTheIoApicEdgeDoesNot() {
        IoApic ioapic = bus.createIoApic();
        enable(apic);
        // pin 9 level-triggered to vector 0x39; pin 4 edge to 0x24
        program(ioapic, 9, 0x39 | IoApic.LEVEL, 0);
        program(ioapic, 4, 0x24, 0);
        ioapic.setIrq(9, true);
        assertEquals(0x39, take());
        assertEquals(1 << (0x39 & 31), apic.readRegister(TMR + 16) & (1 << (0x39 & 31)), "TMR set for level");
        long entry = ioapic.save().redirectionTable()[9];
        assertTrue((entry & IoApic.REMOTE_IRR) != 0);
        ioapic.setIrq(9, true);
        assertEquals(-1, apic.pendingVector(), "remote IRR holds the level back until the EOI");
        apic.writeRegister(EOI, 0);
        assertEquals(0x39, take(), "the EOI found the line still high: delivered again");
        ioapic.setIrq(9, false);
        apic.writeRegister(EOI, 0);
        assertEquals(0, ioapic.save().redirectionTable()[9] & IoApic.REMOTE_IRR, "EOI cleared remote IRR");
        assertEquals(-1, apic.pendingVector());
        ioapic.setIrq(4, true);
        assertEquals(0x24, take());
        assertEquals(0, apic.readRegister(TMR + 16) & 1 << 4);
        apic.writeRegister(EOI, 0);
        assertEquals(-1, apic.pendingVector());
        assertEquals(0, ioapic.save().redirectionTable()[4] & IoApic.REMOTE_IRR);
    }

    static void program(IoApic ioapic, int pin, long low, int destination) {
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, 0x10 + 2 * pin + 1);
        ioapic.mmioWrite(IoApic.IOWIN, 4, (long) destination << 24);
        ioapic.mmioWrite(IoApic.IOREGSEL, 4, 0x10 + 2 * pin);
        ioapic.mmioWrite(IoApic.IOWIN, 4, low);
    }

    @Test
    void clearingSvrEnableMasksEveryLvt() {
        enable(apic);
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.writeRegister(LVT_ERROR, 0xFE);
        apic.writeRegister(SVR, 0xFF);
        assertEquals(LVT_MASKED | 0x20, apic.readRegister(LVT_TIMER));
        assertEquals(LVT_MASKED | 0xFE, apic.readRegister(LVT_ERROR));
        apic.writeRegister(LVT_TIMER, 0x21);
        assertEquals(LVT_MASKED | 0x21, apic.readRegister(LVT_TIMER), "cannot unmask while disabled");
    }

    @Test
    void registerWriteMasks() {
        apic.writeRegister(ID, 0x0712_3456);
        assertEquals(0x0700_0000, apic.readRegister(ID));
        apic.writeRegister(LDR, 0x0312_3456);
        assertEquals(0x0300_0000, apic.readRegister(LDR));
        apic.writeRegister(DFR, 0);
        assertEquals(0x0FFF_FFFF, apic.readRegister(DFR));
        apic.writeRegister(SVR, 0xFFFF_FFFF);
        assertEquals(0x3FF, apic.readRegister(SVR));
        apic.writeRegister(VERSION, 0);
        assertEquals(0x0005_0014, apic.readRegister(VERSION));
        apic.writeRegister(TIMER_DIVIDE, 0xFF);
        assertEquals(0xB, apic.readRegister(TIMER_DIVIDE));
        apic.writeRegister(ICR_HIGH, 0x1234_5678);
        assertEquals(0x1200_0000, apic.readRegister(ICR_HIGH));
        assertEquals(0, apic.readRegister(APR));
    }

    @Test
    void mmioReadsBytesOfTheRegisterAndIgnoresNarrowWrites() {
        enable(apic);
        assertEquals(0x1FF, apic.mmioRead(SVR, 4));
        assertEquals(0xFF, apic.mmioRead(SVR, 1));
        assertEquals(0x01, apic.mmioRead(SVR + 1, 1));
        assertEquals(0x0005, apic.mmioRead(VERSION + 2, 2));
        assertEquals(0, apic.mmioRead(SVR + 4, 4), "bytes 4-15 of a slot read 0");
        assertEquals(0, apic.mmioRead(0x800, 4));
        apic.mmioWrite(TPR, 1, 0x50);
        assertEquals(0, apic.readRegister(TPR));
        apic.mmioWrite(TPR, 4, 0x50);
        assertEquals(0x50, apic.readRegister(TPR));
    }

    @Test
    void errorStatusIsLatchedByAWrite() {
        enable(apic);
        apic.writeRegister(LVT_ERROR, 0xFE);
        apic.writeRegister(ICR_LOW, 0x4005); // fixed IPI with the illegal vector 5
        assertEquals(0, apic.readRegister(ESR), "not visible before an ESR write");
        apic.writeRegister(ESR, 0);
        assertEquals(ESR_SEND_ILLEGAL_VECTOR, apic.readRegister(ESR));
        apic.writeRegister(ESR, 0);
        assertEquals(0, apic.readRegister(ESR));
        assertEquals(0xFE, apic.pendingVector(), "the error LVT fired");
        fixed(3);
        apic.writeRegister(ESR, 0);
        assertEquals(ESR_RECEIVE_ILLEGAL_VECTOR, apic.readRegister(ESR));
    }

    @Test
    void apicBaseMsr() {
        assertFalse(apic.setApicBaseMsr(0xFEE0_0900L | ApicBaseMsr.X2APIC), "x2APIC is not emulated");
        assertFalse(apic.setApicBaseMsr(0xFEE0_0901L), "reserved bit");
        assertTrue(apic.decodes(0xFEE0_0020L));
        enable(apic);
        fixed(0x40);
        assertTrue(apic.setApicBaseMsr(0xFEE0_0100L)); // disable
        assertFalse(apic.decodes(0xFEE0_0020L));
        assertEquals(-1, apic.pendingVector(), "a disabled APIC presents nothing");
        assertEquals(0, bus.deliver(0, false, ApicBus.FIXED, 0x41, false), "nor receives");
        apic.writeRegister(ID, 0x0500_0000);
        assertTrue(apic.setApicBaseMsr(0xFED0_0900L)); // enable elsewhere
        assertEquals(0, apic.readRegister(ID), "enabling restores the initial APIC ID");
        assertEquals(0xFED0_0000L, apic.mmioBase());
        assertTrue(apic.decodes(0xFED0_0FFCL));
        assertFalse(apic.decodes(0xFEE0_0020L));
        assertEquals(0x40, apic.pendingVector());
    }

    @Test
    void kickOnlyForInterruptsThatBecomeDeliverable() {
        enable(apic);
        fixed(0x40);
        assertEquals(1, kicks.get());
        fixed(0x30);
        assertEquals(1, kicks.get(), "0x30 is below the already pending 0x40");
        fixed(0x50);
        assertEquals(2, kicks.get());
    }

    @Test
    void pendingVectorIsCheapWhenNothingIsRequested() {
        enable(apic);
        assertEquals(-1, apic.pendingVector());
        apic.acknowledge(0x40); // not requested: nothing moves to ISR
        assertEquals(0, apic.readRegister(ISR + 0x20));
    }

    @Test
    void lint1NmiAndLint0Fixed() {
        enable(apic);
        apic.writeRegister(LVT_LINT1, 0x400); // NMI
        apic.setLint(1, true);
        assertEquals(LocalApic.EVENT_NMI, apic.pendingEvents());
        assertTrue(apic.takeNmi());
        assertFalse(apic.takeNmi());
        apic.setLint(1, true);
        assertEquals(0, apic.pendingEvents(), "no new edge");
        apic.writeRegister(LVT_LINT0, 0x33); // fixed
        apic.setLint(0, true);
        assertEquals(0x33, apic.pendingVector());
    }

    @Test
    void extIntFromThePicThroughLint0() {
        DualPic pic = new DualPic();
        apic.connectPic(pic);
        initPic(pic);
        enable(apic);
        apic.writeRegister(LVT_LINT0, 0x700); // ExtINT, unmasked
        fixed(0x40);
        pic.setIrq(1, true);
        assertEquals(0x21, apic.pendingVector(), "ExtINT goes before fixed interrupts");
        assertEquals(0x21, apic.pendingVector(), "latched: asked again, the same");
        apic.acknowledge(0x21);
        assertEquals(0x40, apic.pendingVector());
        assertEquals(0, pic.portRead(DualPic.MASTER_COMMAND, 1) & 0x02, "the edge left IRR at INTA");
        apic.writeRegister(LVT_LINT0, 0x10700); // masked
        pic.setIrq(1, false);
        pic.setIrq(1, true); // (the PIC still has IRQ 1 in service, so INTR is low anyway)
        pic.portWrite(DualPic.MASTER_COMMAND, 1, 0x20); // EOI: INTR rises
        assertTrue(pic.output());
        assertEquals(0x40, apic.pendingVector(), "a masked LINT0 ignores INTR");
    }

    static void initPic(DualPic pic) {
        pic.portWrite(0x20, 1, 0x11);
        pic.portWrite(0x21, 1, 0x20);
        pic.portWrite(0x21, 1, 0x04);
        pic.portWrite(0x21, 1, 0x01);
        pic.portWrite(0xA0, 1, 0x11);
        pic.portWrite(0xA1, 1, 0x28);
        pic.portWrite(0xA1, 1, 0x02);
        pic.portWrite(0xA1, 1, 0x01);
        pic.portWrite(0x21, 1, 0x00);
        pic.portWrite(0xA1, 1, 0x00);
    }
}
