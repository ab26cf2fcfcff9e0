package dev.thaw.emulated.irq;

/**
 * IA32_APIC_BASE (MSR 0x1B) of one local APIC: where its page is (bits 51:12), whether the APIC is enabled
 * (bit 11, its "hardware enable") and whether its CPU is the BSP (bit 8). x2APIC mode (bit 10) is not
 * emulated: a value with it, or with any other reserved bit, is refused. Written under the owning
 * {@link LocalApic}'s monitor; read anywhere (one volatile read).
 */
final class ApicBaseMsr {

    static final long BSP = 1L << 8;
    static final long X2APIC = 1L << 10;
    static final long ENABLE = 1L << 11;
    private static final long ADDRESS = 0x000F_FFFF_FFFF_F000L;
    private static final long WRITABLE = ADDRESS | ENABLE | BSP;

    private volatile long value;

    /** Enabled at {@link LocalApic#DEFAULT_BASE}, as after power-up. */
    ApicBaseMsr(boolean bootstrap) {
        value = LocalApic.DEFAULT_BASE | ENABLE | (bootstrap ? BSP : 0);
    }

    long value() {
        return value;
    }

    void set(long v) {
        value = v;
    }

    /** The page's guest physical address. */
    long address() {
        return value & ADDRESS;
    }

    boolean enabled() {
        return (value & ENABLE) != 0;
    }

    boolean bootstrap() {
        return (value & BSP) != 0;
    }

    /** Why {@code v} cannot be this MSR's value, or null if it can. */
    static String refusal(long v) {
        if ((v & ~WRITABLE) == 0) {
            return null;
        }
        return "APIC base 0x" + Long.toHexString(v) + ((v & X2APIC) != 0 ? ": x2APIC mode is not emulated" : ": reserved bits");
    }
}
