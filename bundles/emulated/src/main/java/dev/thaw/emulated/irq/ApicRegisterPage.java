package dev.thaw.emulated.irq;

import static dev.thaw.emulated.irq.ApicRegisters.*;

import dev.thaw.api.state.LapicState;
import java.util.Arrays;

/**
 * The storage of a local APIC's registers in KVM's page layout: one 32-bit value per 16-byte slot, so
 * saving and restoring is a copy; and what the SDM defines on these registers alone: the IRR/ISR/TMR
 * bitmaps, processor priority, acceptance, EOI and destination matching, and the errors the ESR has
 * not shown yet. Not thread-safe: the owning {@link LocalApic} guards it.
 */
final class ApicRegisterPage {

    static final int SLOTS = LapicState.REG_BYTES / 16;

    private final int[] slots = new int[SLOTS];
    /** Errors since the last ESR write; an ESR write moves them into the readable register. */
    private int errorsPending;

    int get(int offset) {
        return slots[offset >>> 4];
    }

    void set(int offset, int value) {
        slots[offset >>> 4] = value;
    }

    void clear() {
        Arrays.fill(slots, 0);
        errorsPending = 0;
    }

    /** Records an error (an {@code ESR_*} bit); returns the LVT error entry's vector to request, or -1 if masked. */
    int recordError(int esrBit) {
        errorsPending |= esrBit;
        int lvt = get(LVT_ERROR);
        return (lvt & LVT_MASKED) == 0 && (lvt & LVT_VECTOR) >= 16 ? lvt & LVT_VECTOR : -1;
    }

    /** A write of the ESR: the errors since the last one become readable. */
    void writeEsr() {
        set(ESR, errorsPending);
        errorsPending = 0;
    }

    boolean testBit(int bitmap, int vector) {
        return (slots[(bitmap >>> 4) + (vector >>> 5)] >>> (vector & 31) & 1) != 0;
    }

    void setBit(int bitmap, int vector, boolean on) {
        int slot = (bitmap >>> 4) + (vector >>> 5);
        int bit = 1 << (vector & 31);
        slots[slot] = on ? slots[slot] | bit : slots[slot] & ~bit;
    }

    /** The highest vector set in the IRR, ISR or TMR bitmap, or -1. */
    int highestBit(int bitmap) {
        for (int word = 7; word >= 0; word--) {
            int w = slots[(bitmap >>> 4) + word];
            if (w != 0) {
                return word * 32 + 31 - Integer.numberOfLeadingZeros(w);
            }
        }
        return -1;
    }

    /** PPR (SDM 11.8.3.1): TPR if its class is at least the highest in-service class, else that class. */
    int processorPriority() {
        int tpr = get(TPR) & 0xFF;
        int isr = highestBit(ISR);
        int isrClass = isr < 0 ? 0 : isr & 0xF0;
        return (tpr & 0xF0) >= isrClass ? tpr : isrClass;
    }

    boolean softwareEnabled() {
        return (get(SVR) & SVR_SOFTWARE_ENABLE) != 0;
    }

    /**
     * Stores a guest write of a register that has no side effect but its value, keeping only its
     * writable bits (an LVT stays masked while the APIC is software-disabled); false if {@code offset} is
     * not such a register.
     */
    boolean writeStored(int offset, int value) {
        int stored;
        switch (offset) {
            case ID, LDR, ICR_HIGH -> stored = value & DESTINATION_FIELD;
            case DFR -> stored = value | 0x0FFF_FFFF;
            case TPR -> stored = value & 0xFF;
            case LVT_TIMER -> stored = lvt(value & LVT_TIMER_WRITABLE);
            case LVT_THERMAL, LVT_PERF -> stored = lvt(value & LVT_MODE_WRITABLE);
            case LVT_LINT0, LVT_LINT1 -> stored = lvt(value & LVT_LINT_WRITABLE);
            case LVT_ERROR -> stored = lvt(value & LVT_ERROR_WRITABLE);
            default -> {
                return false;
            }
        }
        set(offset, stored);
        return true;
    }

    private int lvt(int value) {
        return softwareEnabled() ? value : value | LVT_MASKED;
    }

    /** An SVR write; clearing the software enable masks every LVT (SDM 11.4.7.2). */
    void writeSvr(int value) {
        set(SVR, value & SVR_WRITABLE);
        if (!softwareEnabled()) {
            for (int lvt : LVTS) {
                set(lvt, get(lvt) | LVT_MASKED);
            }
        }
    }

    /** The highest IRR vector whose priority class is above the processor priority's, or -1. */
    int deliverableVector() {
        int irr = highestBit(IRR);
        return irr >= 0 && (irr & 0xF0) > (processorPriority() & 0xF0) ? irr : -1;
    }

    /** Accepts a fixed interrupt into IRR, recording its trigger mode in TMR (SDM 11.5.5). */
    void request(int vector, boolean levelTriggered) {
        setBit(IRR, vector, true);
        setBit(TMR, vector, levelTriggered);
    }

    /** The CPU takes {@code vector}: IRR to ISR. False if it was not requested. */
    boolean service(int vector) {
        if (vector < 0 || vector > 255 || !testBit(IRR, vector)) {
            return false;
        }
        setBit(IRR, vector, false);
        setBit(ISR, vector, true);
        return true;
    }

    /**
     * An EOI: clears the highest in-service bit. Returns its vector if it was level-triggered (its EOI
     * goes on to the IOAPIC), else -1.
     */
    int endOfInterrupt() {
        int vector = highestBit(ISR);
        if (vector < 0) {
            return -1;
        }
        setBit(ISR, vector, false);
        return testBit(TMR, vector) ? vector : -1;
    }

    /**
     * Whether an xAPIC message to {@code destination} is for this APIC: physical mode compares ID[31:24],
     * logical mode the LDR in the DFR's flat or cluster model; 0xFF is a broadcast in both.
     */
    boolean matchesDestination(int destination, boolean logical) {
        if (destination == ApicBus.BROADCAST) {
            return true;
        }
        if (!logical) {
            return destination == get(ID) >>> 24;
        }
        int ldr = get(LDR) >>> 24;
        return switch (get(DFR) >>> 28) {
            case DFR_FLAT -> (ldr & destination) != 0;
            case DFR_CLUSTER -> (ldr >>> 4) == (destination >>> 4) && (ldr & destination & 0xF) != 0;
            default -> false;
        };
    }

    /** Power-up or INIT state (KVM's {@code kvm_lapic_reset}): everything 0 but what is set here. */
    void reset(int id, boolean bootstrap) {
        clear();
        set(ID, id);
        set(VERSION, VERSION_VALUE);
        for (int lvt : LVTS) {
            set(lvt, LVT_MASKED);
        }
        if (bootstrap) {
            set(LVT_LINT0, ApicBus.EXTINT << 8); // virtual-wire mode (KVM's LINT0_REENABLED quirk)
        }
        set(DFR, 0xFFFF_FFFF);
        set(SVR, 0xFF);
    }

    /**
     * Loads a saved page (this runtime's or KVM's) and returns the timer current count saved in it.
     * Computed or constant registers (version, APR, PPR, current count) and ICR's delivery status are
     * not taken from the page.
     */
    long load(LapicState state) {
        errorsPending = 0;
        for (int slot = 0; slot < SLOTS; slot++) {
            slots[slot] = (int) state.register(slot << 4);
        }
        long savedCount = get(TIMER_CURRENT) & 0xFFFF_FFFFL;
        set(VERSION, VERSION_VALUE);
        set(APR, 0);
        set(PPR, 0);
        set(TIMER_CURRENT, 0);
        set(ICR_LOW, get(ICR_LOW) & ~ICR_DELIVERY_STATUS);
        return savedCount;
    }

    /** Bytes {@code align .. align + size - 1} of a 32-bit register value, as an MMIO read returns them. */
    static long bytesOf(int register, int align, int size) {
        long value = (register & 0xFFFF_FFFFL) >>> (8 * align);
        return size >= 4 ? value : value & ((1L << (8 * size)) - 1);
    }

    /** The page as KVM lays it out, with {@code overrides} (offset, value pairs) in place of stored values. */
    LapicState toState(int... overrides) {
        int[] values = slots.clone();
        for (int i = 0; i < overrides.length; i += 2) {
            values[overrides[i] >>> 4] = overrides[i + 1];
        }
        byte[] page = new byte[LapicState.REG_BYTES];
        for (int slot = 0; slot < SLOTS; slot++) {
            for (int b = 0; b < 4; b++) {
                page[(slot << 4) + b] = (byte) (values[slot] >>> (8 * b));
            }
        }
        return new LapicState(page);
    }
}
