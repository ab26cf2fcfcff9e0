package dev.thaw.devices.impl;

import dev.thaw.api.device.ConsoleInput;
import dev.thaw.api.device.ConsoleOutput;
import dev.thaw.api.device.Device;
import dev.thaw.api.device.InterruptLine;
import dev.thaw.api.device.PortRange;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;

/**
 * A 16550A UART as PCs have it at 0x3f8: transmit and receive FIFOs of 16 bytes, the four interrupt
 * sources, divisor latch, loopback. Transmission is instantaneous (bytes go straight to the console), so
 * the transmitter is always empty. Bytes the host sends wait in a host-side queue and enter the receive
 * FIFO as the guest drains it, as a real line would deliver them.
 *
 * <p>The interrupt line is held high while an enabled source is pending (QEMU's serial does the same and,
 * like it, we do not gate the line on MCR.OUT2).
 */
final class Uart16550 implements Device<Uart16550.State>, ConsoleInput {

    /**
     * Everything the guest can observe of the UART, and the host input not yet delivered.
     *
     * @param receiveFifo bytes in the receive FIFO, oldest first
     * @param hostQueue host input waiting for room in the FIFO, oldest first
     * @param thrEmptyPending a transmitter-empty interrupt the guest has not yet seen in IIR
     */
    public record State(
            int ier, int lcr, int mcr, int lsr, int msr, int scr, int divisor,
            boolean fifoEnabled, int triggerLevel, boolean thrEmptyPending,
            byte[] receiveFifo, byte[] hostQueue) {}

    /** The version of {@link State}'s layout. */
    static final int STATE_VERSION = 1;

    static final int FIFO_SIZE = 16;
    /** Bytes of host input accepted but not yet in the receive FIFO. */
    static final int HOST_QUEUE_LIMIT = 64 * 1024;

    // Register offsets from the base port.
    private static final int RBR_THR_DLL = 0;
    private static final int IER_DLM = 1;
    private static final int IIR_FCR = 2;
    private static final int LCR = 3;
    private static final int MCR = 4;
    private static final int LSR = 5;
    private static final int MSR = 6;
    private static final int SCR = 7;

    private static final int IER_RX_AVAILABLE = 0x01;
    private static final int IER_THR_EMPTY = 0x02;
    private static final int IER_LINE_STATUS = 0x04;
    private static final int IER_MODEM_STATUS = 0x08;

    private static final int IIR_NONE = 0x01;
    private static final int IIR_LINE_STATUS = 0x06;
    private static final int IIR_RX_AVAILABLE = 0x04;
    private static final int IIR_RX_TIMEOUT = 0x0c;
    private static final int IIR_THR_EMPTY = 0x02;
    private static final int IIR_MODEM_STATUS = 0x00;
    private static final int IIR_FIFO_ENABLED = 0xc0;

    private static final int FCR_ENABLE = 0x01;
    private static final int FCR_CLEAR_RX = 0x02;
    private static final int FCR_CLEAR_TX = 0x04;

    private static final int LCR_DLAB = 0x80;
    private static final int MCR_LOOPBACK = 0x10;

    private static final int LSR_DATA_READY = 0x01;
    private static final int LSR_OVERRUN = 0x02;
    private static final int LSR_THR_EMPTY = 0x20;
    private static final int LSR_TRANSMITTER_EMPTY = 0x40;

    private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};

    private final PortRange ports;
    private final InterruptLine irq;
    private final ConsoleOutput console;

    private final ArrayDeque<Byte> rxFifo = new ArrayDeque<>();
    private final ArrayDeque<Byte> hostQueue = new ArrayDeque<>();
    private int ier;
    private int lcr = 0x03;
    private int mcr = 0x08;
    private int lsr = LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY;
    private int msr = 0xb0;
    private int scr;
    private int divisor = 12;
    private boolean fifoEnabled;
    private int triggerLevel = 1;
    /** Set when the transmitter became empty and the guest has not yet seen it in IIR. */
    private boolean thrEmptyPending;
    private boolean lineHigh;

    Uart16550(int basePort, InterruptLine irq, ConsoleOutput console) {
        this.ports = new PortRange(basePort, 8);
        this.irq = irq;
        this.console = console;
    }

    @Override
    public List<PortRange> ports() {
        return List.of(ports);
    }

    @Override
    public synchronized long read(int port, int size) {
        int value = switch (port - ports.base()) {
            case RBR_THR_DLL -> dlab() ? divisor & 0xff : readReceiveBuffer();
            case IER_DLM -> dlab() ? (divisor >> 8) & 0xff : ier;
            case IIR_FCR -> readInterruptIdentification();
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> readLineStatus();
            case MSR -> readModemStatus();
            case SCR -> scr;
            default -> 0xff;
        };
        updateInterruptLine();
        return value;
    }

    @Override
    public synchronized void write(int port, int size, long value) {
        int v = (int) value & 0xff;
        switch (port - ports.base()) {
            case RBR_THR_DLL -> {
                if (dlab()) {
                    divisor = (divisor & 0xff00) | v;
                } else {
                    transmit((byte) v);
                }
            }
            case IER_DLM -> {
                if (dlab()) {
                    divisor = (divisor & 0x00ff) | (v << 8);
                } else {
                    // Enabling the THRE interrupt while the transmitter is empty raises it at once.
                    if ((v & IER_THR_EMPTY) != 0 && (ier & IER_THR_EMPTY) == 0) {
                        thrEmptyPending = true;
                    }
                    ier = v & 0x0f;
                }
            }
            case IIR_FCR -> writeFifoControl(v);
            case LCR -> lcr = v;
            case MCR -> mcr = v & 0x1f;
            case SCR -> scr = v;
            default -> { } // LSR and MSR are read-only; writes are ignored as on hardware.
        }
        updateInterruptLine();
    }

    @Override
    public synchronized int receive(byte[] data, int offset, int length) {
        int taken = Math.min(length, HOST_QUEUE_LIMIT - hostQueue.size());
        for (int i = 0; i < taken; i++) {
            hostQueue.add(data[offset + i]);
        }
        refillReceiveFifo();
        updateInterruptLine();
        return taken;
    }

    @Override
    public Class<State> stateType() {
        return State.class;
    }

    @Override
    public int stateVersion() {
        return STATE_VERSION;
    }

    @Override
    public synchronized State saveState() {
        return new State(ier, lcr, mcr, lsr, msr, scr, divisor, fifoEnabled, triggerLevel, thrEmptyPending,
                bytes(rxFifo), bytes(hostQueue));
    }

    @Override
    public synchronized void restoreState(State s) {
        if (s.receiveFifo().length > FIFO_SIZE || s.hostQueue().length > HOST_QUEUE_LIMIT
                || Arrays.stream(TRIGGER_LEVELS).noneMatch(t -> t == s.triggerLevel())) {
            throw new IllegalArgumentException("inconsistent UART state: FIFO " + s.receiveFifo().length
                    + " bytes, queue " + s.hostQueue().length + " bytes, trigger level " + s.triggerLevel());
        }
        ier = s.ier() & 0x0f;
        lcr = s.lcr() & 0xff;
        mcr = s.mcr() & 0x1f;
        lsr = s.lsr() & 0xff;
        msr = s.msr() & 0xff;
        scr = s.scr() & 0xff;
        divisor = s.divisor() & 0xffff;
        fifoEnabled = s.fifoEnabled();
        triggerLevel = s.triggerLevel();
        thrEmptyPending = s.thrEmptyPending();
        rxFifo.clear();
        hostQueue.clear();
        for (byte b : s.receiveFifo()) {
            rxFifo.add(b);
        }
        for (byte b : s.hostQueue()) {
            hostQueue.add(b);
        }
        // A new device's line is low; raise it if the restored state has an interrupt pending.
        lineHigh = false;
        updateInterruptLine();
    }

    private static byte[] bytes(ArrayDeque<Byte> queue) {
        byte[] out = new byte[queue.size()];
        int i = 0;
        for (byte b : queue) {
            out[i++] = b;
        }
        return out;
    }

    /** Bytes accepted from the host that the guest has not read yet. */
    synchronized int pendingInput() {
        return rxFifo.size() + hostQueue.size();
    }

    private boolean dlab() {
        return (lcr & LCR_DLAB) != 0;
    }

    private void transmit(byte b) {
        if ((mcr & MCR_LOOPBACK) != 0) {
            enqueueReceived(b);
        } else {
            console.write(new byte[] {b}, 0, 1);
        }
        thrEmptyPending = true;
    }

    private int readReceiveBuffer() {
        Byte b = rxFifo.poll();
        refillReceiveFifo();
        return b == null ? 0 : b & 0xff;
    }

    private int readInterruptIdentification() {
        int id = pendingInterrupt();
        if (id == IIR_THR_EMPTY) {
            thrEmptyPending = false; // reading IIR with THRE as its source clears it
        }
        return id | (fifoEnabled ? IIR_FIFO_ENABLED : 0);
    }

    private int readLineStatus() {
        int value = lsr | (rxFifo.isEmpty() ? 0 : LSR_DATA_READY);
        lsr &= ~LSR_OVERRUN; // error bits clear on read
        return value;
    }

    private int readModemStatus() {
        if ((mcr & MCR_LOOPBACK) != 0) {
            // Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
            return ((mcr & 0x02) << 3) | ((mcr & 0x01) << 5) | ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4);
        }
        return msr;
    }

    private void writeFifoControl(int v) {
        boolean enable = (v & FCR_ENABLE) != 0;
        if (enable != fifoEnabled || (v & FCR_CLEAR_RX) != 0) {
            rxFifo.clear();
        }
        if ((v & FCR_CLEAR_TX) != 0) {
            thrEmptyPending = (ier & IER_THR_EMPTY) != 0;
        }
        fifoEnabled = enable;
        triggerLevel = enable ? TRIGGER_LEVELS[(v >> 6) & 3] : 1;
        refillReceiveFifo();
    }

    private void enqueueReceived(byte b) {
        if (rxFifo.size() < fifoCapacity()) {
            rxFifo.add(b);
        } else {
            lsr |= LSR_OVERRUN;
        }
    }

    private void refillReceiveFifo() {
        while (!hostQueue.isEmpty() && rxFifo.size() < fifoCapacity()) {
            rxFifo.add(hostQueue.poll());
        }
    }

    private int fifoCapacity() {
        return fifoEnabled ? FIFO_SIZE : 1;
    }

    /** The highest-priority enabled pending source, as IIR encodes it. */
    private int pendingInterrupt() {
        if ((ier & IER_LINE_STATUS) != 0 && (lsr & LSR_OVERRUN) != 0) {
            return IIR_LINE_STATUS;
        }
        if ((ier & IER_RX_AVAILABLE) != 0 && !rxFifo.isEmpty()) {
            // Below the trigger level a real UART raises the timeout interrupt after four character
            // times of silence; the host delivers instantly, so the silence has already passed.
            return rxFifo.size() >= triggerLevel ? IIR_RX_AVAILABLE : IIR_RX_TIMEOUT;
        }
        if ((ier & IER_THR_EMPTY) != 0 && thrEmptyPending) {
            return IIR_THR_EMPTY;
        }
        if ((ier & IER_MODEM_STATUS) != 0 && (msr & 0x0f) != 0) {
            return IIR_MODEM_STATUS;
        }
        return IIR_NONE;
    }

    private void updateInterruptLine() {
        boolean high = pendingInterrupt() != IIR_NONE;
        if (high != lineHigh) {
            lineHigh = high;
            irq.setLevel(high);
        }
    }
}
