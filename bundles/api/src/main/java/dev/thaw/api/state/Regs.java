package dev.thaw.api.state;

/** General purpose registers, instruction pointer and flags ({@code struct kvm_regs}). */
public record Regs(
        long rax, long rbx, long rcx, long rdx,
        long rsi, long rdi, long rsp, long rbp,
        long r8, long r9, long r10, long r11,
        long r12, long r13, long r14, long r15,
        long rip, long rflags) {

    /** The value of RFLAGS with only its always-one bit 1 set. */
    public static final long RFLAGS_RESERVED_ONE = 0x2L;
}
