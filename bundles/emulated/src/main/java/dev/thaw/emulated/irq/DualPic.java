package dev.thaw.emulated.irq;

import dev.thaw.api.device.InterruptLine;
import dev.thaw.api.state.PicState;
import java.util.Objects;

/**
 * The PC's two cascaded 8259A PICs: the master at ports 0x20/0x21 (IRQ 0-7), the slave at 0xA0/0xA1
 * (IRQ 8-15) on the master's IRQ 2, and the edge/level control registers at 0x4D0/0x4D1. Its INTR output
 * goes to the BSP's LINT0 ({@link LocalApic#connectPic}); the CPU's acknowledge cycle is
 * {@link #interruptAcknowledge()}.
 *
 * <p>As KVM's i8259 model: the slave's request reaches the master as a pulse on IRQ 2; an acknowledge
 * cycle that finds no request (it went away, or was masked, after INTR rose) returns the spurious IRQ 7
 * of the master ({@code irqBase + 7}) without setting ISR, or IRQ 15 of the slave, with the master's IRQ 2
 * in service. A poll-mode read (OCW3 P bit) acts as an acknowledge and returns {@code 0x80 | irq}, or 0,
 * as the 8259A data sheet says.
 *
 * <p>Thread-safe: one lock for both chips. The output listener runs with that lock held (so levels
 * arrive in order) and must not call back into the PIC.
 */
public final class DualPic {

    public static final int MASTER_COMMAND = 0x20;
    public static final int MASTER_DATA = 0x21;
    public static final int SLAVE_COMMAND = 0xA0;
    public static final int SLAVE_DATA = 0xA1;
    public static final int ELCR_MASTER = 0x4D0;
    public static final int ELCR_SLAVE = 0x4D1;
    private static final int CASCADE_IRQ = 2;

    private final Pic8259 master = new Pic8259(true);
    private final Pic8259 slave = new Pic8259(false);
    private InterruptLine output = level -> { };
    private boolean intr;

    /** Whether {@code port} is one of this device's six. */
    public static boolean handlesPort(int port) {
        return port == MASTER_COMMAND || port == MASTER_DATA || port == SLAVE_COMMAND || port == SLAVE_DATA
                || port == ELCR_MASTER || port == ELCR_SLAVE;
    }

    /** Where INTR goes; it is told the present level at once. */
    public synchronized void connectOutput(InterruptLine line) {
        output = Objects.requireNonNull(line, "line");
        output.setLevel(intr);
    }

    /** Whether INTR is asserted now. */
    public synchronized boolean output() {
        return intr;
    }

    /** An {@code in} from one of the ports (any size; the PIC answers the low byte). */
    public synchronized long portRead(int port, int size) {
        return switch (port) {
            case ELCR_MASTER -> master.elcr;
            case ELCR_SLAVE -> slave.elcr;
            case MASTER_COMMAND, MASTER_DATA, SLAVE_COMMAND, SLAVE_DATA -> {
                Pic8259 chip = port >= SLAVE_COMMAND ? slave : master;
                if (chip.poll) {
                    chip.poll = false;
                    yield pollRead(chip);
                }
                yield (port & 1) == 0 ? chip.readCommand() : chip.imr;
            }
            default -> 0xFF;
        };
    }

    /** An {@code out} to one of the ports (the low byte counts). */
    public synchronized void portWrite(int port, int size, long value) {
        int b = (int) value & 0xFF;
        switch (port) {
            case MASTER_COMMAND -> master.writeCommand(b);
            case MASTER_DATA -> master.writeData(b);
            case SLAVE_COMMAND -> slave.writeCommand(b);
            case SLAVE_DATA -> slave.writeData(b);
            case ELCR_MASTER -> master.elcr = b & master.elcrMask;
            case ELCR_SLAVE -> slave.elcr = b & slave.elcrMask;
            default -> {
                return;
            }
        }
        update();
    }

    /** The level of ISA IRQ line {@code irq} (0-15), from a device. */
    public synchronized void setIrq(int irq, boolean level) {
        if (irq < 0 || irq > 15) {
            throw new IllegalArgumentException("PIC IRQ " + irq);
        }
        (irq < 8 ? master : slave).setIrq(irq & 7, level);
        update();
    }

    /**
     * The CPU's interrupt acknowledge cycle: the vector of the highest-priority request, which goes into
     * service; the spurious vector of IRQ 7 or IRQ 15 if the request went away.
     */
    public synchronized int interruptAcknowledge() {
        int vector;
        int irq = master.pendingIrq();
        if (irq < 0) {
            vector = master.irqBase + 7; // spurious on the master: ISR untouched
        } else {
            master.acknowledge(irq);
            if (irq == CASCADE_IRQ) {
                int slaveIrq = slave.pendingIrq();
                if (slaveIrq >= 0) {
                    slave.acknowledge(slaveIrq);
                    vector = slave.irqBase + slaveIrq;
                } else {
                    vector = slave.irqBase + 7; // spurious on the slave: the master's IRQ 2 stays in service
                }
            } else {
                vector = master.irqBase + irq;
            }
        }
        update();
        return vector;
    }

    private int pollRead(Pic8259 chip) {
        int irq = chip.pendingIrq();
        if (irq < 0) {
            return 0;
        }
        chip.acknowledge(irq);
        if (chip == slave) {
            master.irr &= ~(1 << CASCADE_IRQ);
        }
        update();
        return 0x80 | irq;
    }

    /** Passes the slave's request to the master's IRQ 2 and the master's to INTR. */
    private void update() {
        if (slave.pendingIrq() >= 0) {
            master.setIrq(CASCADE_IRQ, true);
            master.setIrq(CASCADE_IRQ, false);
        }
        boolean level = master.pendingIrq() >= 0;
        if (level != intr) {
            intr = level;
            output.setLevel(level);
        }
    }

    /** The master's state ({@link dev.thaw.api.state.VmArchState#picMaster()}). */
    public synchronized PicState saveMaster() {
        return master.save();
    }

    /** The slave's state ({@link dev.thaw.api.state.VmArchState#picSlave()}). */
    public synchronized PicState saveSlave() {
        return slave.save();
    }

    /** Takes back both chips' states (this runtime's or KVM's), then drives INTR from them. */
    public synchronized void restore(PicState masterState, PicState slaveState) {
        master.restore(masterState);
        slave.restore(slaveState);
        update();
    }
}
