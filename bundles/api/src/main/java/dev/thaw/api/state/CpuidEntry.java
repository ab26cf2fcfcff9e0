package dev.thaw.api.state;

/**
 * One CPUID leaf/subleaf ({@code struct kvm_cpuid_entry2}).
 *
 * @param flags {@code KVM_CPUID_FLAG_*}, e.g. 1 when {@code index} is significant
 */
public record CpuidEntry(long function, long index, long flags, long eax, long ebx, long ecx, long edx) {

    /** {@code KVM_CPUID_FLAG_SIGNIFCANT_INDEX}: the subleaf {@code index} selects this entry. */
    public static final long FLAG_SIGNIFICANT_INDEX = 1;

    @Override
    public String toString() {
        return "CpuidEntry[0x" + Long.toHexString(function) + "/" + index + " flags=" + flags
                + " eax=0x" + Long.toHexString(eax) + " ebx=0x" + Long.toHexString(ebx)
                + " ecx=0x" + Long.toHexString(ecx) + " edx=0x" + Long.toHexString(edx) + "]";
    }
}
