package dev.thaw.emulated.diff;

/**
 * Register ids of Unicorn 2's x86 target ({@code enum uc_x86_reg} in {@code unicorn/x86.h}, 2.0.1), under
 * their C names. {@link UnicornTest} checks the general registers against code that stores each one.
 */
final class UcX86 {

    static final int UC_X86_REG_AH = 1;
    static final int UC_X86_REG_AL = 2;
    static final int UC_X86_REG_CS = 11;
    static final int UC_X86_REG_DS = 17;
    static final int UC_X86_REG_EAX = 19;
    static final int UC_X86_REG_EFLAGS = 25;
    static final int UC_X86_REG_ES = 28;
    static final int UC_X86_REG_FS = 32;
    static final int UC_X86_REG_GS = 33;
    static final int UC_X86_REG_RAX = 35;
    static final int UC_X86_REG_RBP = 36;
    static final int UC_X86_REG_RBX = 37;
    static final int UC_X86_REG_RCX = 38;
    static final int UC_X86_REG_RDI = 39;
    static final int UC_X86_REG_RDX = 40;
    static final int UC_X86_REG_RIP = 41;
    static final int UC_X86_REG_RSI = 43;
    static final int UC_X86_REG_RSP = 44;
    static final int UC_X86_REG_SS = 49;
    static final int UC_X86_REG_R8 = 106;
    static final int UC_X86_REG_R9 = 107;
    static final int UC_X86_REG_R10 = 108;
    static final int UC_X86_REG_R11 = 109;
    static final int UC_X86_REG_R12 = 110;
    static final int UC_X86_REG_R13 = 111;
    static final int UC_X86_REG_R14 = 112;
    static final int UC_X86_REG_R15 = 113;
    static final int UC_X86_REG_FS_BASE = 250;
    static final int UC_X86_REG_GS_BASE = 251;
    static final int UC_X86_REG_RFLAGS = 253;

    /** The 16 general registers in the instruction encoding's order (RAX, RCX, RDX, RBX, RSP, ...). */
    static final int[] GPRS = {
        UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
        UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
        UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
        UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
    };

    // enum uc_cpu_x86 (for uc_ctl_set_cpu_model)
    static final int UC_CPU_X86_QEMU64 = 0;
    static final int UC_CPU_X86_HASWELL = 19;
    static final int UC_CPU_X86_EPYC = 35;

    private UcX86() {}
}
