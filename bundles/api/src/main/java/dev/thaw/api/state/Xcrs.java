package dev.thaw.api.state;

import java.util.List;

/** The vCPU's extended control registers ({@code struct kvm_xcrs}); at most 16. */
public record Xcrs(long flags, List<Xcr> xcrs) {

    /** {@code KVM_MAX_XCRS}. */
    public static final int MAX_XCRS = 16;

    public Xcrs {
        xcrs = List.copyOf(xcrs);
        if (xcrs.size() > MAX_XCRS) {
            throw new IllegalArgumentException(xcrs.size() + " XCRs, at most " + MAX_XCRS);
        }
    }
}
