package dev.thaw.emulated.irq;

import dev.thaw.api.state.PicState;

/**
 * One 8259A programmable interrupt controller, master or slave, with its fields named as KVM's
 * {@code struct kvm_pic_state}. Covers the initialization sequence (ICW1-ICW4; single mode and
 * buffered mode are not emulated, as in KVM), masking (OCW1), specific, non-specific and rotating EOI and
 * priority rotation (OCW2), register read select, poll and special mask mode (OCW3), auto-EOI, special
 * fully nested mode and per-line edge or level sensitivity (ELCR). Not thread-safe: {@link DualPic}
 * guards it.
 */
final class Pic8259 {

    int lastIrr;
    int irr;
    int imr;
    int isr;
    /** The IRQ with the highest priority (rotation moves it). */
    int priorityAdd;
    int irqBase;
    /** OCW3 register read select: 0 reads IRR at the command port, 1 reads ISR. */
    int readRegSelect;
    boolean poll;
    boolean specialMask;
    /** 0: initialized; 1, 2, 3: ICW2, ICW3, ICW4 expected next. */
    int initState;
    boolean autoEoi;
    boolean rotateOnAutoEoi;
    boolean specialFullyNestedMode;
    /** ICW1 said an ICW4 follows. */
    boolean init4;
    /** Edge/level control: a set bit makes that line level-sensitive. */
    int elcr;
    /** The ELCR bits that may be set (PC: IRQ 0, 1, 2, 8 and 13 are always edge-triggered). */
    int elcrMask;
    private final boolean master;

    Pic8259(boolean master) {
        this.master = master;
        this.elcrMask = master ? 0xF8 : 0xDE;
    }

    /** A line's level. Edge-sensitive lines latch IRR on a rising edge; level-sensitive lines follow the level. */
    void setIrq(int irq, boolean level) {
        int mask = 1 << irq;
        if ((elcr & mask) != 0) {
            irr = level ? irr | mask : irr & ~mask;
        } else if (level && (lastIrr & mask) == 0) {
            irr |= mask;
        }
        lastIrr = level ? lastIrr | mask : lastIrr & ~mask;
    }

    /** How far below the highest priority the highest set bit of {@code mask} is: 0-7, or 8 for none. */
    private int priorityOf(int mask) {
        if ((mask & 0xFF) == 0) {
            return 8;
        }
        int priority = 0;
        while ((mask & (1 << ((priority + priorityAdd) & 7))) == 0) {
            priority++;
        }
        return priority;
    }

    /**
     * The IRQ this PIC would present now: the highest-priority unmasked request above everything in
     * service (in special mask mode, masked in-service levels do not block; in special fully nested mode
     * the master's in-service cascade input does not block the slave's further requests), or -1.
     */
    int pendingIrq() {
        int priority = priorityOf(irr & ~imr);
        if (priority == 8) {
            return -1;
        }
        int inService = isr;
        if (specialMask) {
            inService &= ~imr;
        }
        if (specialFullyNestedMode && master) {
            inService &= ~(1 << 2);
        }
        return priority < priorityOf(inService) ? (priority + priorityAdd) & 7 : -1;
    }

    /** The acknowledge cycle for {@code irq}: into service (unless auto-EOI), out of IRR if edge-triggered. */
    void acknowledge(int irq) {
        int mask = 1 << irq;
        isr |= mask;
        if ((elcr & mask) == 0) {
            irr &= ~mask;
        }
        if (autoEoi) {
            if (rotateOnAutoEoi) {
                priorityAdd = (irq + 1) & 7;
            }
            isr &= ~mask;
        }
    }

    /** A write to the command port (0x20 or 0xA0): ICW1, OCW2 or OCW3. */
    void writeCommand(int value) {
        if ((value & 0x10) != 0) { // ICW1: starts initialization
            lastIrr = 0;
            irr &= elcr; // edge latches are lost, level lines still requesting
            imr = 0;
            isr = 0;
            priorityAdd = 0;
            readRegSelect = 0;
            poll = false;
            specialMask = false;
            autoEoi = false;
            rotateOnAutoEoi = false;
            specialFullyNestedMode = false;
            init4 = (value & 1) != 0;
            initState = 1;
        } else if ((value & 0x08) != 0) { // OCW3
            if ((value & 0x04) != 0) {
                poll = true;
            }
            if ((value & 0x02) != 0) {
                readRegSelect = value & 1;
            }
            if ((value & 0x40) != 0) {
                specialMask = (value & 0x20) != 0;
            }
        } else {
            writeOcw2(value);
        }
    }

    private void writeOcw2(int value) {
        int command = value >>> 5;
        switch (command) {
            case 0, 4 -> rotateOnAutoEoi = command == 4; // clear / set rotate in auto-EOI mode
            case 1, 5 -> { // non-specific EOI, without or with rotation
                int priority = priorityOf(isr);
                if (priority != 8) {
                    int irq = (priority + priorityAdd) & 7;
                    isr &= ~(1 << irq);
                    if (command == 5) {
                        priorityAdd = (irq + 1) & 7;
                    }
                }
            }
            case 3 -> isr &= ~(1 << (value & 7)); // specific EOI
            case 6 -> priorityAdd = (value + 1) & 7; // set priority: IRQ value&7 becomes the lowest
            case 7 -> { // rotate on specific EOI
                isr &= ~(1 << (value & 7));
                priorityAdd = (value + 1) & 7;
            }
            default -> { } // 2: no operation
        }
    }

    /** A write to the data port (0x21 or 0xA1): OCW1, or the next ICW of an initialization. */
    void writeData(int value) {
        switch (initState) {
            case 1 -> { // ICW2: vector base
                irqBase = value & 0xF8;
                initState = 2;
            }
            case 2 -> initState = init4 ? 3 : 0; // ICW3: cascade wiring, fixed on a PC
            case 3 -> { // ICW4
                specialFullyNestedMode = (value & 0x10) != 0;
                autoEoi = (value & 0x02) != 0;
                initState = 0;
            }
            default -> imr = value & 0xFF; // OCW1
        }
    }

    /** A read of the command port outside poll mode: IRR or ISR as OCW3 selected. */
    int readCommand() {
        return readRegSelect != 0 ? isr : irr;
    }

    PicState save() {
        return new PicState(lastIrr, irr, imr, isr, priorityAdd, irqBase, readRegSelect, bit(poll),
                bit(specialMask), initState, bit(autoEoi), bit(rotateOnAutoEoi), bit(specialFullyNestedMode),
                bit(init4), elcr, elcrMask);
    }

    void restore(PicState s) {
        lastIrr = s.lastIrr() & 0xFF;
        irr = s.irr() & 0xFF;
        imr = s.imr() & 0xFF;
        isr = s.isr() & 0xFF;
        priorityAdd = s.priorityAdd() & 7;
        irqBase = s.irqBase() & 0xF8;
        readRegSelect = s.readRegSelect() & 1;
        poll = s.poll() != 0;
        specialMask = s.specialMask() != 0;
        initState = s.initState() & 3;
        autoEoi = s.autoEoi() != 0;
        rotateOnAutoEoi = s.rotateOnAutoEoi() != 0;
        specialFullyNestedMode = s.specialFullyNestedMode() != 0;
        init4 = s.init4() != 0;
        elcrMask = s.elcrMask() & 0xFF;
        elcr = s.elcr() & elcrMask;
    }

    private static int bit(boolean b) {
        return b ? 1 : 0;
    }
}
