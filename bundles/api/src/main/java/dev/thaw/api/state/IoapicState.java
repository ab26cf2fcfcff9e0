package dev.thaw.api.state;

import java.util.Arrays;
import java.util.Objects;

/**
 * The in-kernel IOAPIC ({@code struct kvm_ioapic_state}).
 *
 * @param redirectionTable the 24 redirection entries as 64-bit words (vector in bits 0-7, mask bit 16,
 *     destination in bits 56-63)
 */
public record IoapicState(long baseAddress, long ioregsel, long id, long irr, long[] redirectionTable) {

    /** {@code KVM_IOAPIC_NUM_PINS}. */
    public static final int PINS = 24;

    public IoapicState {
        if (redirectionTable.length != PINS) {
            throw new IllegalArgumentException(redirectionTable.length + " redirection entries, expected " + PINS);
        }
        redirectionTable = redirectionTable.clone();
    }

    @Override
    public long[] redirectionTable() {
        return redirectionTable.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IoapicState x && baseAddress == x.baseAddress && ioregsel == x.ioregsel
                && id == x.id && irr == x.irr && Arrays.equals(redirectionTable, x.redirectionTable);
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseAddress, ioregsel, id, irr) * 31 + Arrays.hashCode(redirectionTable);
    }

    @Override
    public String toString() {
        return "IoapicState[baseAddress=0x" + Long.toHexString(baseAddress) + ", ioregsel=" + ioregsel
                + ", id=" + id + ", irr=0x" + Long.toHexString(irr) + ", redirectionTable="
                + Arrays.toString(redirectionTable) + "]";
    }
}
