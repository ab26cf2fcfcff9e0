package dev.thaw.emulated.irq;

import dev.thaw.api.state.IoapicState;

/**
 * The I/O APIC (82093AA), as KVM emulates it: 24 pins, version 0x11, at 0xFEC00000. Registers are reached
 * through IOREGSEL (+0x00) and IOWIN (+0x10); version 0x11 has no EOI register (+0x40 is ignored, as in
 * KVM on x86), so level-triggered pins learn of EOIs from the local APICs' broadcast. Created by
 * {@link ApicBus#createIoApic()}.
 *
 * <p>Pins (as KVM's {@code ioapic_set_irq}): {@code irr} holds each pin's line level, asserted or not
 * (polarity is the device's business: KVM ignores the entry's polarity bit too). An edge-triggered pin
 * delivers on a rising edge if unmasked; a level-triggered pin delivers while asserted, unmasked and
 * remote IRR is clear, and sets remote IRR; the EOI of its vector clears remote IRR and delivers again if
 * the line is still high; unmasking or reprogramming it with the line high delivers too.
 *
 * <p>Thread-safe; delivers to the local APICs with its lock held (lock order: IOAPIC, then APIC).
 */
public final class IoApic {

    public static final long DEFAULT_BASE = 0xFEC0_0000L;
    /** The MMIO window KVM decodes ({@code IOAPIC_MEM_LENGTH}). */
    public static final int MMIO_SIZE = 0x100;
    public static final int PINS = IoapicState.PINS;
    public static final int VERSION = 0x11;

    static final int IOREGSEL = 0x00;
    static final int IOWIN = 0x10;
    static final int REG_ID = 0x00;
    static final int REG_VERSION = 0x01;
    static final int REG_ARBITRATION = 0x02;
    static final int REG_REDIRECTION = 0x10;

    /** Redirection entry bits. */
    static final long VECTOR = 0xFF;
    static final int DELIVERY_MODE_SHIFT = 8;
    static final long LOGICAL = 1L << 11;
    static final long DELIVERY_STATUS = 1L << 12;
    static final long POLARITY_LOW = 1L << 13;
    static final long REMOTE_IRR = 1L << 14;
    static final long LEVEL = 1L << 15;
    static final long MASKED = 1L << 16;
    static final int DESTINATION_SHIFT = 56;

    private final ApicBus bus;
    private long baseAddress = DEFAULT_BASE;
    private int ioregsel;
    private int id;
    private int irr;
    private final long[] redirection = new long[PINS];

    IoApic(ApicBus bus) {
        this.bus = bus;
        for (int pin = 0; pin < PINS; pin++) {
            redirection[pin] = MASKED;
        }
    }

    /** Where the registers are (0xFEC00000 unless a restored state says otherwise). */
    public synchronized long mmioBase() {
        return baseAddress;
    }

    /** A read of {@code size} bytes at {@code offset} from the base: IOREGSEL or IOWIN; anything else reads 0. */
    public synchronized long mmioRead(int offset, int size) {
        long value = switch (offset) {
            case IOREGSEL -> ioregsel;
            case IOWIN -> readIndirect() & 0xFFFF_FFFFL;
            default -> 0;
        };
        return size >= 4 ? value : value & ((1L << (8 * size)) - 1);
    }

    /** A write at {@code offset}: IOREGSEL or IOWIN take the low 32 bits; anything else is ignored. */
    public synchronized void mmioWrite(int offset, int size, long value) {
        int data = size >= 4 ? (int) value : (int) (value & ((1L << (8 * size)) - 1));
        switch (offset) {
            case IOREGSEL -> ioregsel = data & 0xFF;
            case IOWIN -> writeIndirect(data);
            default -> { }
        }
    }

    private int readIndirect() {
        return switch (ioregsel) {
            case REG_ID, REG_ARBITRATION -> (id & 0xF) << 24;
            case REG_VERSION -> (PINS - 1) << 16 | VERSION;
            default -> {
                int pin = (ioregsel - REG_REDIRECTION) >>> 1;
                if (ioregsel < REG_REDIRECTION || pin >= PINS) {
                    yield 0;
                }
                long entry = redirection[pin];
                yield (ioregsel & 1) != 0 ? (int) (entry >>> 32) : (int) entry;
            }
        };
    }

    private void writeIndirect(int data) {
        if (ioregsel == REG_ID) {
            id = (data >>> 24) & 0xF;
            return;
        }
        int pin = (ioregsel - REG_REDIRECTION) >>> 1;
        if (ioregsel < REG_REDIRECTION || pin >= PINS) {
            return; // version and arbitration are read-only
        }
        long old = redirection[pin];
        long entry = (ioregsel & 1) != 0
                ? (old & 0xFFFF_FFFFL) | ((long) data << 32)
                : (old & 0xFFFF_FFFF_0000_0000L) | (data & 0xFFFF_FFFFL);
        entry = (entry & ~(REMOTE_IRR | DELIVERY_STATUS)) | (old & (REMOTE_IRR | DELIVERY_STATUS));
        if ((entry & LEVEL) == 0) {
            entry &= ~REMOTE_IRR; // as KVM: an edge entry has no remote IRR (Linux relies on this)
        }
        redirection[pin] = entry;
        if ((entry & LEVEL) != 0 && (irr & (1 << pin)) != 0) {
            service(pin);
        }
    }

    /**
     * The level of input {@code pin} (0-23), asserted or not; from a device thread. On a PC, pins 0-15 are
     * the ISA IRQs (KVM's default routing: GSI n is pin n), see {@link InterruptRouter}.
     */
    public synchronized void setIrq(int pin, boolean level) {
        if (pin < 0 || pin >= PINS) {
            throw new IllegalArgumentException("IOAPIC pin " + pin);
        }
        int mask = 1 << pin;
        if (!level) {
            irr &= ~mask;
            return;
        }
        boolean rising = (irr & mask) == 0;
        irr |= mask;
        if (rising || (redirection[pin] & LEVEL) != 0) {
            service(pin);
        }
    }

    /** Sends the pin's interrupt unless it is masked or (level-triggered) awaits its EOI. */
    private void service(int pin) {
        long entry = redirection[pin];
        boolean level = (entry & LEVEL) != 0;
        if ((entry & MASKED) != 0 || (level && (entry & REMOTE_IRR) != 0)) {
            return;
        }
        bus.deliver((int) (entry >>> DESTINATION_SHIFT) & 0xFF, (entry & LOGICAL) != 0,
                (int) (entry >>> DELIVERY_MODE_SHIFT) & 7, (int) (entry & VECTOR), level);
        if (level) {
            redirection[pin] |= REMOTE_IRR; // as KVM, even if no APIC took it: the guest must EOI
        }
    }

    /** A local APIC's EOI of level-triggered {@code vector}: clears remote IRR, re-delivers if still high. */
    synchronized void endOfInterrupt(int vector) {
        for (int pin = 0; pin < PINS; pin++) {
            long entry = redirection[pin];
            if ((entry & VECTOR) != vector || (entry & LEVEL) == 0) {
                continue;
            }
            redirection[pin] = entry & ~REMOTE_IRR;
            if ((irr & (1 << pin)) != 0) {
                service(pin);
            }
        }
    }

    /** The state in KVM's {@code struct kvm_ioapic_state} terms ({@code irr}: line levels). */
    public synchronized IoapicState save() {
        return new IoapicState(baseAddress, ioregsel, id, irr, redirection);
    }

    /**
     * Takes back a saved state, this runtime's or KVM's. Level-triggered pins whose line is high and which
     * are unmasked with remote IRR clear deliver at once (as KVM's restore). Edge-triggered pins do not:
     * their edge was delivered before the save (KVM would deliver them again). Ordering: after the local
     * APICs are restored, which would otherwise overwrite what this delivers.
     */
    public synchronized void restore(IoapicState state) {
        baseAddress = state.baseAddress();
        ioregsel = (int) state.ioregsel() & 0xFF;
        id = (int) state.id() & 0xF;
        irr = (int) state.irr() & ((1 << PINS) - 1);
        long[] table = state.redirectionTable();
        System.arraycopy(table, 0, redirection, 0, PINS);
        for (int pin = 0; pin < PINS; pin++) {
            if ((redirection[pin] & LEVEL) != 0 && (irr & (1 << pin)) != 0) {
                service(pin);
            }
        }
    }
}
