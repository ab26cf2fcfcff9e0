package dev.thaw.api.state;

import java.util.Arrays;

/** The local APIC's register page as KVM keeps it ({@code struct kvm_lapic_state}, 1024 bytes). */
public record LapicState(byte[] regs) {

    /** {@code KVM_APIC_REG_SIZE}. */
    public static final int REG_BYTES = 0x400;

    public LapicState {
        if (regs.length != REG_BYTES) {
            throw new IllegalArgumentException("LAPIC state of " + regs.length + " bytes, expected " + REG_BYTES);
        }
        regs = regs.clone();
    }

    @Override
    public byte[] regs() {
        return regs.clone();
    }

    /** The 32-bit APIC register at {@code offset} (e.g. 0x20 for the APIC ID register). */
    public long register(int offset) {
        if (offset < 0 || offset > REG_BYTES - 4 || (offset & 3) != 0) {
            throw new IllegalArgumentException("APIC register offset 0x" + Integer.toHexString(offset));
        }
        return (regs[offset] & 0xffL) | (regs[offset + 1] & 0xffL) << 8 | (regs[offset + 2] & 0xffL) << 16
                | (regs[offset + 3] & 0xffL) << 24;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LapicState x && Arrays.equals(regs, x.regs);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(regs);
    }

    @Override
    public String toString() {
        return "LapicState[id=0x" + Long.toHexString(register(0x20)) + ", " + regs.length + " bytes]";
    }
}
