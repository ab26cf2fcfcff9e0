package dev.thaw.api.state;

import java.util.Arrays;

/**
 * The vCPU's XSAVE area ({@code struct kvm_xsave}), in the host's XSAVE layout (CPUID leaf 0xD):
 * 4096 bytes, or the larger size {@code KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2)} reports.
 */
public record Xsave(byte[] region) {

    /** Size of {@code struct kvm_xsave} without its flexible tail. */
    public static final int LEGACY_BYTES = 4096;

    public Xsave {
        if (region.length < LEGACY_BYTES || region.length % 4 != 0) {
            throw new IllegalArgumentException("XSAVE region of " + region.length
                    + " bytes: expected a multiple of 4, at least " + LEGACY_BYTES);
        }
        region = region.clone();
    }

    @Override
    public byte[] region() {
        return region.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Xsave x && Arrays.equals(region, x.region);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(region);
    }

    @Override
    public String toString() {
        return "Xsave[" + region.length + " bytes]";
    }
}
