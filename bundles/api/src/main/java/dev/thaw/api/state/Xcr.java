package dev.thaw.api.state;

/** One extended control register, e.g. XCR0 ({@code struct kvm_xcr}). */
public record Xcr(long xcr, long value) {}
