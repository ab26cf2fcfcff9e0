package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.SVR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class InterruptRouterTest {

    private final ApicBus bus = new ApicBus(new AtomicLong()::get);
    private final LocalApic bsp = bus.createLocalApic(0, true, () -> { });
    private final IoApic ioapic = bus.createIoApic();
    private final DualPic pic = new DualPic();
    private final InterruptRouter router = new InterruptRouter(pic, ioapic);

    @Test
    void isaLinesReachBothControllersOthersOnlyTheIoApic() {
        bsp.writeRegister(SVR, 0x1FF);
        LocalApicTest.initPic(pic);
        LocalApicTest.program(ioapic, 4, 0x24, 0);
        LocalApicTest.program(ioapic, 20, 0x54, 0);
        router.line(4).setLevel(true);
        assertTrue(pic.output());
        assertEquals(0x24, bsp.pendingVector());
        assertEquals(1 << 4, ioapic.save().irr());
        router.setIrq(20, true);
        assertEquals(0x54, bsp.pendingVector());
        router.line(4).setLevel(false);
        assertEquals(1 << 20, ioapic.save().irr());
        assertThrows(IllegalArgumentException.class, () -> router.line(24));
    }

    @Test
    void withThePicsMaskedAsTheTestGuestHasThemOnlyTheIoApicDelivers() {
        bsp.connectPic(pic);
        bsp.writeRegister(SVR, 0x1FF);
        pic.portWrite(0x21, 1, 0xFF);
        pic.portWrite(0xA1, 1, 0xFF);
        bsp.writeRegister(0x350, 0x10000); // LINT0 masked
        LocalApicTest.program(ioapic, 4, 0x24, 0);
        router.setIrq(4, true);
        assertFalse(pic.output());
        assertEquals(0x24, bsp.pendingVector());
    }
}
