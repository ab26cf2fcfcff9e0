package dev.thaw.api.state;

/** Debug registers DR0-DR3, DR6 and DR7 ({@code struct kvm_debugregs}). */
public record DebugRegs(long db0, long db1, long db2, long db3, long dr6, long dr7, long flags) {}
