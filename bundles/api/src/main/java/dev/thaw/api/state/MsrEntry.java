package dev.thaw.api.state;

/** One model-specific register and its value ({@code struct kvm_msr_entry}). */
public record MsrEntry(long index, long data) {

    @Override
    public String toString() {
        return "MsrEntry[0x" + Long.toHexString(index) + "=0x" + Long.toHexString(data) + "]";
    }
}
