package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.api.state.LapicState;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Save and restore of the local APIC in KVM's {@code struct kvm_lapic_state} layout. */
class LapicStateTest {

    private static final long BSP_BASE = 0xFEE0_0900L;
    private static final long AP_BASE = 0xFEE0_0800L;

    private final AtomicLong now = new AtomicLong(10_000_000_000L);
    private final ApicBus bus = new ApicBus(now::get);

    /** A page as KVM_GET_LAPIC returns it: 32-bit little-endian registers at their MMIO offsets. */
    private static final class KvmPage {
        final byte[] bytes = new byte[LapicState.REG_BYTES];

        KvmPage put(int offset, int value) {
            for (int b = 0; b < 4; b++) {
                bytes[offset + b] = (byte) (value >>> (8 * b));
            }
            return this;
        }

        KvmPage bit(int bitmap, int vector) {
            int offset = bitmap + 16 * (vector >>> 5);
            int old = (bytes[offset] & 0xFF) | (bytes[offset + 1] & 0xFF) << 8 | (bytes[offset + 2] & 0xFF) << 16
                    | (bytes[offset + 3] & 0xFF) << 24;
            return put(offset, old | 1 << (vector & 31));
        }

        LapicState state() {
            return new LapicState(bytes);
        }
    }

    /** What KVM saves for a vCPU of the test guest (guest/src/kernel.c) mid-run. */
    private static KvmPage testGuestPage(int apicId, int currentCount) {
        KvmPage p = new KvmPage()
                .put(ID, apicId << 24)
                .put(VERSION, 0x0005_0014)
                .put(PPR, 0x20) // stale as saved; recomputed
                .put(DFR, 0xFFFF_FFFF)
                .put(SVR, 0x1FF)
                .put(LVT_TIMER, 0x20000 | 0x20)
                .put(LVT_THERMAL, LVT_MASKED)
                .put(LVT_PERF, LVT_MASKED)
                .put(LVT_LINT0, LVT_MASKED)
                .put(LVT_LINT1, LVT_MASKED)
                .put(LVT_ERROR, LVT_MASKED)
                .put(TIMER_INITIAL, 0x100000)
                .put(TIMER_CURRENT, currentCount)
                .put(TIMER_DIVIDE, 0xB);
        p.bytes[SVR + 8] = 0x5A; // bytes 4-15 of a slot are not registers
        return p;
    }

    @Test
    void kvmPageOfTheTestGuestRestoresToTheSameBehaviour() {
        LocalApic apic = bus.createLocalApic(0, true, () -> { });
        KvmPage page = testGuestPage(0, 0x40000).bit(ISR, 0x20).bit(IRR, 0x24);
        apic.restore(BSP_BASE, page.state());
        long t = now.get();

        assertEquals(0x1FF, apic.readRegister(SVR));
        assertEquals(0x20, apic.readRegister(PPR), "recomputed from ISR");
        assertEquals(0x40000, apic.readRegister(TIMER_CURRENT));
        assertEquals(t + 0x40000, apic.nextTimerDeadlineNanos(), "remaining time = TMCCT x divide (1) ns");
        assertEquals(-1, apic.pendingVector(), "0x24 waits behind in-service 0x20");
        apic.writeRegister(EOI, 0);
        assertEquals(0x24, apic.pendingVector());
        apic.acknowledge(0x24);
        apic.writeRegister(EOI, 0);

        apic.pollTimer(t + 0x40000);
        assertEquals(0x20, apic.pendingVector());
        apic.acknowledge(0x20);
        apic.writeRegister(EOI, 0);
        assertEquals(t + 0x40000 + 0x100000, apic.nextTimerDeadlineNanos(), "then full periods");
    }

    @Test
    void apicIdComesFromBits31To24() {
        LocalApic ap = bus.createLocalApic(5, false, () -> { });
        bus.createLocalApic(0, true, () -> { }).restore(BSP_BASE, testGuestPage(0, 0x100).state());
        ap.restore(AP_BASE, testGuestPage(5, 0x100).state());
        assertEquals(5 << 24, ap.readRegister(ID));
        assertEquals(1, bus.deliver(5, false, ApicBus.FIXED, 0x44, false));
        assertEquals(0x44, ap.pendingVector());
    }

    @Test
    void savedCurrentCountOfZero() {
        LocalApic apic = bus.createLocalApic(0, true, () -> { });
        apic.restore(BSP_BASE, testGuestPage(0, 0).state());
        assertEquals(now.get() + 0x100000, apic.nextTimerDeadlineNanos(), "periodic: a full period (KVM)");
        KvmPage oneShot = testGuestPage(0, 0).put(LVT_TIMER, 0x20);
        apic.restore(BSP_BASE, oneShot.state());
        assertEquals(Long.MAX_VALUE, apic.nextTimerDeadlineNanos(), "one-shot: it had expired");
        assertEquals(0, apic.readRegister(TIMER_CURRENT));
    }

    @Test
    void saveWritesKvmsLayout() {
        LocalApic apic = bus.createLocalApic(2, false, () -> { });
        apic.writeRegister(SVR, 0x1FF);
        apic.writeRegister(TIMER_DIVIDE, 0x0); // divide by 2
        apic.writeRegister(LVT_TIMER, 0x20000 | 0x20);
        apic.writeRegister(TIMER_INITIAL, 1_000_000);
        apic.writeRegister(TPR, 0x10);
        bus.deliver(2, false, ApicBus.FIXED, 0x61, true);
        now.addAndGet(500_000); // 250000 ticks at divide 2
        LapicState s = apic.save();
        assertEquals(2L << 24, s.register(ID));
        assertEquals(0x0005_0014, s.register(VERSION));
        assertEquals(0x1FF, s.register(SVR));
        assertEquals(0x10, s.register(TPR));
        assertEquals(0x10, s.register(PPR));
        assertEquals(750_000, s.register(TIMER_CURRENT));
        assertEquals(1_000_000, s.register(TIMER_INITIAL));
        assertEquals(1L << (0x61 & 31), s.register(IRR + 0x30));
        assertEquals(1L << (0x61 & 31), s.register(TMR + 0x30));
        assertEquals(0xFFFF_FFFFL, s.register(DFR));
    }

    @Test
    void roundTripKeepsRegistersAndTheTimersRemainingTime() {
        LocalApic apic = bus.createLocalApic(0, true, () -> { });
        apic.writeRegister(SVR, 0x1FF);
        apic.writeRegister(LDR, 0x0100_0000);
        apic.writeRegister(TIMER_DIVIDE, 0x9); // divide by 64
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.writeRegister(TIMER_INITIAL, 100_000);
        apic.writeRegister(LVT_LINT0, 0x700);
        apic.writeRegister(LVT_ERROR, 0xFE);
        apic.writeRegister(ICR_HIGH, 0x0300_0000);
        bus.deliver(0, false, ApicBus.FIXED, 0x50, false);
        bus.deliver(0, false, ApicBus.FIXED, 0x90, true);
        apic.acknowledge(apic.pendingVector());
        now.addAndGet(64 * 40_000);
        LapicState saved = apic.save();
        assertEquals(60_000, saved.register(TIMER_CURRENT));

        now.addAndGet(123_456_789); // restored later, on another machine
        ApicBus other = new ApicBus(now::get);
        LocalApic restored = other.createLocalApic(0, true, () -> { });
        restored.restore(BSP_BASE, saved);
        assertArrayEquals(saved.regs(), restored.save().regs());
        assertEquals(now.get() + 64 * 60_000, restored.nextTimerDeadlineNanos());
        assertEquals(-1, restored.pendingVector(), "0x50 waits behind in-service 0x90");
        restored.writeRegister(EOI, 0);
        assertEquals(0x50, restored.pendingVector());
    }

    @Test
    void expiredButUnpolledTimerIsInTheSavedIrr() {
        LocalApic apic = bus.createLocalApic(0, true, () -> { });
        apic.writeRegister(SVR, 0x1FF);
        apic.writeRegister(TIMER_DIVIDE, 0xB);
        apic.writeRegister(LVT_TIMER, 0x20);
        apic.writeRegister(TIMER_INITIAL, 1000);
        now.addAndGet(5000);
        LapicState s = apic.save();
        assertEquals(1L, s.register(IRR + 0x10) & 1);
        assertEquals(0, s.register(TIMER_CURRENT));
    }

    @Test
    void x2apicModeIsRefused() {
        LocalApic apic = bus.createLocalApic(0, true, () -> { });
        LapicState s = apic.save();
        assertThrows(IllegalArgumentException.class, () -> apic.restore(0xFEE0_0D00L, s));
    }
}
