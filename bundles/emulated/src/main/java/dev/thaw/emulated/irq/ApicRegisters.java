package dev.thaw.emulated.irq;

/**
 * The xAPIC register page (SDM vol. 3A, table 11-1): offsets from the APIC base, which are also the
 * offsets in KVM's {@code struct kvm_lapic_state}, and the bit fields the device models use. Every
 * register is 32 bits wide at the start of a 16-byte slot.
 */
final class ApicRegisters {

    static final int ID = 0x20;
    static final int VERSION = 0x30;
    static final int TPR = 0x80;
    static final int APR = 0x90;
    static final int PPR = 0xA0;
    static final int EOI = 0xB0;
    static final int RRD = 0xC0;
    static final int LDR = 0xD0;
    static final int DFR = 0xE0;
    static final int SVR = 0xF0;
    /** In-service register: eight 32-bit words at 0x100, 0x110, ... 0x170. */
    static final int ISR = 0x100;
    /** Trigger mode register (1 = level-triggered), eight words from 0x180. */
    static final int TMR = 0x180;
    /** Interrupt request register, eight words from 0x200. */
    static final int IRR = 0x200;
    static final int ESR = 0x280;
    static final int ICR_LOW = 0x300;
    static final int ICR_HIGH = 0x310;
    static final int LVT_TIMER = 0x320;
    static final int LVT_THERMAL = 0x330;
    static final int LVT_PERF = 0x340;
    static final int LVT_LINT0 = 0x350;
    static final int LVT_LINT1 = 0x360;
    static final int LVT_ERROR = 0x370;
    static final int TIMER_INITIAL = 0x380;
    /** Timer current count; KVM stores its value here when it saves the page. */
    static final int TIMER_CURRENT = 0x390;
    static final int TIMER_DIVIDE = 0x3E0;

    /** The six LVT entries of a version 0x14 APIC with max LVT entry 5 (no CMCI entry). */
    static final int[] LVTS = {LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR};

    /** KVM's APIC version register: version 0x14, max LVT entry 5, no directed-EOI support. */
    static final int VERSION_VALUE = 0x0005_0014;

    static final int SVR_SOFTWARE_ENABLE = 1 << 8;
    /** Writable SVR bits: spurious vector, software enable, focus processor checking (as KVM's mask 0x3ff). */
    static final int SVR_WRITABLE = 0x3FF;

    static final int LVT_VECTOR = 0xFF;
    static final int LVT_DELIVERY_MODE = 0x700;
    static final int LVT_POLARITY_LOW = 1 << 13;
    static final int LVT_LEVEL_TRIGGER = 1 << 15;
    static final int LVT_MASKED = 1 << 16;
    static final int LVT_TIMER_MODE = 3 << 17;
    static final int TIMER_ONE_SHOT = 0;
    static final int TIMER_PERIODIC = 1 << 17;
    static final int TIMER_TSC_DEADLINE = 2 << 17;

    /** Writable bits of each LVT kind (delivery status and remote IRR are read-only here). */
    static final int LVT_TIMER_WRITABLE = LVT_MASKED | LVT_TIMER_MODE | LVT_VECTOR;
    static final int LVT_MODE_WRITABLE = LVT_MASKED | LVT_DELIVERY_MODE | LVT_VECTOR;
    static final int LVT_LINT_WRITABLE = LVT_MASKED | LVT_LEVEL_TRIGGER | LVT_POLARITY_LOW | LVT_DELIVERY_MODE
            | LVT_VECTOR;
    static final int LVT_ERROR_WRITABLE = LVT_MASKED | LVT_VECTOR;

    static final int ICR_VECTOR = 0xFF;
    static final int ICR_DELIVERY_MODE_SHIFT = 8;
    static final int ICR_LOGICAL = 1 << 11;
    static final int ICR_DELIVERY_STATUS = 1 << 12;
    static final int ICR_ASSERT = 1 << 14;
    static final int ICR_LEVEL_TRIGGER = 1 << 15;
    static final int ICR_SHORTHAND_SHIFT = 18;
    static final int SHORTHAND_NONE = 0;
    static final int SHORTHAND_SELF = 1;
    static final int SHORTHAND_ALL = 2;
    static final int SHORTHAND_ALL_BUT_SELF = 3;

    static final int DESTINATION_FIELD = 0xFF00_0000;
    static final int DFR_FLAT = 0xF;
    static final int DFR_CLUSTER = 0x0;

    /** ESR bits (SDM 11.5.3). */
    static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
    static final int ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;

    private ApicRegisters() {}
}
