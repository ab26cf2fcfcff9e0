package dev.thaw.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.state.PicState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DualPicTest {

    private final DualPic pic = new DualPic();
    private final List<Boolean> intr = new ArrayList<>();

    DualPicTest() {
        pic.connectOutput(intr::add);
        intr.clear();
    }

    /** Linux's and the BIOS's sequence: edge, cascade, ICW4 8086 mode; vectors 0x20 and 0x28. */
    private void init() {
        LocalApicTest.initPic(pic);
    }

    private int isr(int commandPort) {
        pic.portWrite(commandPort, 1, 0x0B);
        int v = (int) pic.portRead(commandPort, 1);
        pic.portWrite(commandPort, 1, 0x0A);
        return v;
    }

    @Test
    void initializationSequence() {
        pic.portWrite(0x20, 1, 0x11); // ICW1: edge, cascade, ICW4 follows
        pic.portWrite(0x21, 1, 0x30); // ICW2: base 0x30
        pic.portWrite(0x21, 1, 0x04); // ICW3
        pic.portWrite(0x21, 1, 0x01); // ICW4
        assertEquals(0, pic.portRead(0x21, 1), "ICW1 cleared the mask");
        pic.portWrite(0x21, 1, 0xF5); // OCW1
        assertEquals(0xF5, pic.portRead(0x21, 1));
        PicState s = pic.saveMaster();
        assertEquals(0x30, s.irqBase());
        assertEquals(0, s.initState());
        assertEquals(0, s.autoEoi());
        pic.portWrite(0x21, 1, 0x00);
        pic.setIrq(3, true);
        assertEquals(0x33, pic.interruptAcknowledge());
    }

    @Test
    void icw4IsSkippedWithoutIc4() {
        pic.portWrite(0x20, 1, 0x10);
        pic.portWrite(0x21, 1, 0x40);
        pic.portWrite(0x21, 1, 0x04);
        pic.portWrite(0x21, 1, 0xFB); // already OCW1
        assertEquals(0xFB, pic.portRead(0x21, 1));
        assertEquals(0x40, pic.saveMaster().irqBase());
    }

    @Test
    void maskedLinesDoNotRaiseIntrAndUnmaskingDoes() {
        init();
        pic.portWrite(0x21, 1, 0xFF);
        pic.portWrite(0xA1, 1, 0xFF);
        pic.setIrq(4, true);
        assertFalse(pic.output());
        assertTrue(intr.isEmpty());
        assertEquals(0x10, pic.portRead(0x20, 1), "IRR still latched the edge");
        pic.portWrite(0x21, 1, 0xEF);
        assertTrue(pic.output());
        assertEquals(0x24, pic.interruptAcknowledge());
        assertFalse(pic.output());
        assertEquals(List.of(true, false), intr);
    }

    @Test
    void spuriousIrq7WhenTheRequestGoesAwayBeforeAcknowledge() {
        init();
        pic.portWrite(0x4D0, 1, 0x08); // IRQ 3 level-triggered
        pic.setIrq(3, true);
        assertTrue(pic.output());
        pic.setIrq(3, false); // the device drops it; the CPU is already on its way
        assertEquals(0x27, pic.interruptAcknowledge());
        assertEquals(0, isr(0x20), "a spurious IRQ 7 is not in service");
    }

    @Test
    void spuriousIrq7WhenMaskedBeforeAcknowledge() {
        init();
        pic.setIrq(5, true);
        assertTrue(pic.output());
        pic.portWrite(0x21, 1, 0x20);
        assertEquals(0x27, pic.interruptAcknowledge());
    }

    @Test
    void spuriousIrq15KeepsTheCascadeInService() {
        init();
        pic.portWrite(0x4D1, 1, 0x02); // IRQ 9 level-triggered
        pic.setIrq(9, true);
        assertTrue(pic.output());
        pic.setIrq(9, false);
        assertEquals(0x2F, pic.interruptAcknowledge());
        assertEquals(0x04, isr(0x20));
        assertEquals(0, isr(0xA0));
    }

    @Test
    void cascadedSlaveInterrupt() {
        init();
        pic.setIrq(12, true);
        assertTrue(pic.output());
        assertEquals(0x2C, pic.interruptAcknowledge());
        assertEquals(0x04, isr(0x20));
        assertEquals(0x10, isr(0xA0));
        pic.portWrite(0xA0, 1, 0x20);
        pic.portWrite(0x20, 1, 0x20);
        assertEquals(0, isr(0x20));
        assertEquals(0, isr(0xA0));
    }

    @Test
    void priorityAndNonSpecificEoi() {
        init();
        pic.setIrq(6, true);
        pic.setIrq(1, true);
        assertEquals(0x21, pic.interruptAcknowledge(), "IRQ 1 before IRQ 6");
        assertFalse(pic.output(), "IRQ 6 waits for IRQ 1's EOI");
        pic.setIrq(0, true);
        assertTrue(pic.output(), "IRQ 0 nests");
        assertEquals(0x20, pic.interruptAcknowledge());
        assertEquals(0x03, isr(0x20));
        pic.portWrite(0x20, 1, 0x20); // non-specific EOI: the highest priority, IRQ 0
        assertEquals(0x02, isr(0x20));
        assertFalse(pic.output());
        pic.portWrite(0x20, 1, 0x20);
        assertTrue(pic.output());
        assertEquals(0x26, pic.interruptAcknowledge());
    }

    @Test
    void specificEoiAndRotation() {
        init();
        pic.setIrq(2 + 1, true);
        pic.setIrq(5, true);
        assertEquals(0x23, pic.interruptAcknowledge());
        pic.portWrite(0x20, 1, 0x60 | 5); // specific EOI for IRQ 5: not in service, nothing changes
        assertEquals(0x08, isr(0x20));
        pic.portWrite(0x20, 1, 0x60 | 3);
        assertEquals(0, isr(0x20));
        pic.portWrite(0x20, 1, 0xC0 | 4); // set priority: IRQ 4 lowest, IRQ 5 highest
        pic.setIrq(0, true);
        assertEquals(0x25, pic.interruptAcknowledge(), "IRQ 5 now goes before IRQ 0");
        pic.portWrite(0x20, 1, 0xA0); // rotate on non-specific EOI: IRQ 5 becomes lowest
        assertEquals(6, pic.saveMaster().priorityAdd());
        assertEquals(0x20, pic.interruptAcknowledge());
    }

    @Test
    void readRegisterSelect() {
        init();
        pic.setIrq(4, true);
        pic.setIrq(6, true);
        assertEquals(0x50, pic.portRead(0x20, 1), "IRR by default");
        pic.interruptAcknowledge();
        pic.portWrite(0x20, 1, 0x0B);
        assertEquals(0x10, pic.portRead(0x20, 1), "ISR after OCW3 RR=1 RIS=1");
        assertEquals(0x10, pic.portRead(0x20, 1), "and stays selected");
        pic.portWrite(0x20, 1, 0x0A);
        assertEquals(0x40, pic.portRead(0x20, 1));
    }

    @Test
    void pollMode() {
        init();
        pic.setIrq(6, true);
        pic.portWrite(0x20, 1, 0x0C); // OCW3 poll
        assertEquals(0x86, pic.portRead(0x20, 1));
        assertEquals(0x40, isr(0x20), "a poll read acknowledges");
        pic.portWrite(0x20, 1, 0x0C);
        assertEquals(0, pic.portRead(0x20, 1), "nothing requested");
    }

    @Test
    void autoEoi() {
        pic.portWrite(0x20, 1, 0x11);
        pic.portWrite(0x21, 1, 0x08);
        pic.portWrite(0x21, 1, 0x04);
        pic.portWrite(0x21, 1, 0x03); // 8086 mode, auto-EOI
        pic.setIrq(1, true);
        assertEquals(0x09, pic.interruptAcknowledge());
        assertEquals(0, isr(0x20));
    }

    @Test
    void levelTriggeredLineRequestsAgainAfterEoi() {
        init();
        pic.portWrite(0x4D0, 1, 0xFF);
        assertEquals(0xF8, pic.portRead(0x4D0, 1), "IRQ 0-2 cannot be level-triggered");
        pic.portWrite(0x4D1, 1, 0xFF);
        assertEquals(0xDE, pic.portRead(0x4D1, 1), "nor IRQ 8 and 13");
        pic.setIrq(5, true);
        assertEquals(0x25, pic.interruptAcknowledge());
        pic.portWrite(0x20, 1, 0x20);
        assertTrue(pic.output(), "still high");
        assertEquals(0x25, pic.interruptAcknowledge());
    }

    @Test
    void saveRestoreRoundTrip() {
        init();
        pic.portWrite(0x4D1, 1, 0x0C);
        pic.setIrq(3, true);
        pic.setIrq(10, true);
        pic.interruptAcknowledge();
        pic.portWrite(0x21, 1, 0x80);
        pic.portWrite(0xA0, 1, 0x0B);
        PicState master = pic.saveMaster();
        PicState slave = pic.saveSlave();
        assertEquals(0x0C, slave.elcr());
        assertEquals(0xDE, slave.elcrMask());
        assertEquals(1, slave.readRegSelect());

        DualPic restored = new DualPic();
        List<Boolean> out = new ArrayList<>();
        restored.connectOutput(out::add);
        restored.restore(master, slave);
        assertEquals(master, restored.saveMaster());
        assertEquals(slave, restored.saveSlave());
        assertEquals(pic.output(), restored.output());
        assertEquals(pic.interruptAcknowledge(), restored.interruptAcknowledge(), "the same next vector");
        assertEquals(pic.saveMaster(), restored.saveMaster());
    }

    @Test
    void theTestGuestMasksBothPics() {
        pic.portWrite(0x21, 1, 0xFF);
        pic.portWrite(0xA1, 1, 0xFF);
        pic.setIrq(4, true);
        assertFalse(pic.output());
    }
}
