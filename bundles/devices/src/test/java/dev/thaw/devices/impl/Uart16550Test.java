package dev.thaw.devices.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class Uart16550Test {

    static final int BASE = 0x3f8;
    static final int THR = BASE, IER = BASE + 1, IIR = BASE + 2, FCR = BASE + 2, LCR = BASE + 3, MCR = BASE + 4, LSR = BASE + 5;

    final List<Boolean> levels = new ArrayList<>();
    final ByteArrayOutputStream console = new ByteArrayOutputStream();
    final Uart16550 uart = new Uart16550(BASE, levels::add, console::write);

    boolean lineHigh() {
        return !levels.isEmpty() && levels.getLast();
    }

    int in(int port) {
        return (int) uart.read(port, 1);
    }

    void out(int port, int value) {
        uart.write(port, 1, value);
    }

    @Test
    void transmittedBytesReachTheConsoleAndDivisorWritesDoNot() {
        out(LCR, 0x83); // DLAB on
        out(THR, 0x01); // divisor low byte, not data
        out(LCR, 0x03);
        for (byte b : "hi\n".getBytes(StandardCharsets.US_ASCII)) {
            out(THR, b);
        }
        assertEquals("hi\n", console.toString(StandardCharsets.US_ASCII));
        assertEquals(0x60, in(LSR) & 0x60, "transmitter always empty");
    }

    @Test
    void receivedBytesRaiseTheLineUntilTheGuestDrainsThem() {
        out(FCR, 0xc7); // FIFO on, trigger level 14
        out(IER, 0x01);
        assertFalse(lineHigh());
        uart.receive("abc".getBytes(StandardCharsets.US_ASCII), 0, 3);
        assertTrue(lineHigh());
        assertEquals(0xcc, in(IIR), "below the trigger level the timeout source is reported, FIFO bits set");
        assertEquals(1, in(LSR) & 1);
        assertEquals('a', in(THR));
        assertEquals('b', in(THR));
        assertEquals('c', in(THR));
        assertEquals(0, in(LSR) & 1);
        assertEquals(0xc1, in(IIR));
        assertFalse(lineHigh());
    }

    @Test
    void inputLongerThanTheFifoArrivesWholeAndInOrder() {
        out(FCR, 0x01);
        out(IER, 0x01);
        byte[] text = "0123456789abcdefghijklmnopqrstuvwxyz".getBytes(StandardCharsets.US_ASCII);
        assertEquals(text.length, uart.receive(text, 0, text.length));
        StringBuilder got = new StringBuilder();
        while ((in(LSR) & 1) != 0) {
            got.append((char) in(THR));
        }
        assertEquals(new String(text, StandardCharsets.US_ASCII), got.toString());
        assertEquals(0, uart.pendingInput());
        assertFalse(lineHigh());
    }

    @Test
    void reachingTheTriggerLevelReportsDataAvailable() {
        out(FCR, 0x41); // trigger level 4
        out(IER, 0x01);
        uart.receive(new byte[] {1, 2, 3, 4}, 0, 4);
        assertEquals(0xc4, in(IIR));
    }

    @Test
    void transmitterEmptyInterruptIsRaisedByEnablingAndClearedByReadingIir() {
        out(IER, 0x02);
        assertTrue(lineHigh());
        assertEquals(0x02, in(IIR));
        assertFalse(lineHigh(), "reading IIR with THRE as source clears it");
        out(THR, 'x');
        assertTrue(lineHigh(), "writing THR empties it again at once");
        out(IER, 0x00);
        assertFalse(lineHigh());
    }

    @Test
    void loopbackSendsTransmittedBytesToTheReceiverAndOverrunsWhenFull() {
        out(MCR, 0x10);
        out(IER, 0x05);
        out(THR, 'q');
        assertEquals("", console.toString(StandardCharsets.US_ASCII));
        out(THR, 'r'); // FIFO disabled: one-byte holding register, so this overruns
        assertEquals(0x06, in(IIR) & 0x0f, "line status (overrun) has the highest priority");
        assertEquals(0x03, in(LSR) & 0x03);
        assertEquals(0x00, in(LSR) & 0x02, "overrun clears when LSR is read");
        assertEquals('q', in(THR));
    }

    @Test
    void hostInputBeyondTheQueueLimitIsRefusedNotDropped() {
        byte[] big = new byte[Uart16550.HOST_QUEUE_LIMIT + 100];
        int taken = uart.receive(big, 0, big.length);
        assertEquals(Uart16550.HOST_QUEUE_LIMIT, taken);
        assertEquals(1, uart.receive(big, 0, big.length), "the byte moved into the holding register freed one place");
        assertEquals(0, uart.receive(big, 0, big.length));
        in(THR);
        assertEquals(1, uart.receive(big, 0, big.length), "the guest's read freed one more");
    }

    @Test
    void savedStateRestoredIntoANewUartBehavesTheSameAndReassertsItsInterrupt() {
        out(FCR, 0x81); // FIFO on, trigger level 8
        out(IER, 0x01);
        out(LCR, 0x83);
        out(THR, 0x0c);
        out(LCR, 0x03);
        byte[] text = "abcdefghijklmnopqrstuvwxyz".getBytes(StandardCharsets.US_ASCII);
        uart.receive(text, 0, text.length);
        assertEquals('a', in(THR));
        Uart16550.State saved = uart.saveState();

        List<Boolean> newLevels = new ArrayList<>();
        Uart16550 copy = new Uart16550(BASE, newLevels::add, console::write);
        copy.restoreState(saved);
        assertEquals(List.of(true), newLevels, "the pending receive interrupt is raised on the new line");
        assertArrayEquals(saved.receiveFifo(), copy.saveState().receiveFifo());
        assertArrayEquals(saved.hostQueue(), copy.saveState().hostQueue());
        for (int port = BASE + 1; port < BASE + 8; port++) {
            if (port != LSR && port != IIR) {
                assertEquals(uart.read(port, 1), copy.read(port, 1), "register at offset " + (port - BASE));
            }
        }
        StringBuilder a = new StringBuilder();
        StringBuilder b = new StringBuilder();
        while ((in(LSR) & 1) != 0) {
            a.append((char) in(THR));
        }
        while ((copy.read(LSR, 1) & 1) != 0) {
            b.append((char) copy.read(THR, 1));
        }
        assertEquals("bcdefghijklmnopqrstuvwxyz", a.toString());
        assertEquals(a.toString(), b.toString());
    }

    @Test
    void inconsistentStateIsRefused() {
        Uart16550.State bad = new Uart16550.State(0, 3, 8, 0x60, 0xb0, 0, 12, true, 5, false, new byte[0], new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> uart.restoreState(bad));
        Uart16550.State tooFull = new Uart16550.State(0, 3, 8, 0x60, 0xb0, 0, 12, true, 1, false, new byte[17], new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> uart.restoreState(tooFull));
    }
}
