package dev.thaw.linux.unicorn;

/**
 * Register ids of Unicorn 2's x86 target ({@code enum uc_x86_reg} in {@code unicorn/x86.h}, 2.0.1), under
 * their C names. A test compiles each against the header, and checks the general registers against code
 * that stores each one.
 */
public final class UcX86 {

    public static final int UC_X86_REG_AH = 1;
    public static final int UC_X86_REG_AL = 2;
    public static final int UC_X86_REG_CS = 11;
    public static final int UC_X86_REG_DS = 17;
    public static final int UC_X86_REG_EAX = 19;
    public static final int UC_X86_REG_EFLAGS = 25;
    public static final int UC_X86_REG_ES = 28;
    public static final int UC_X86_REG_FS = 32;
    public static final int UC_X86_REG_GS = 33;
    public static final int UC_X86_REG_RAX = 35;
    public static final int UC_X86_REG_RBP = 36;
    public static final int UC_X86_REG_RBX = 37;
    public static final int UC_X86_REG_RCX = 38;
    public static final int UC_X86_REG_RDI = 39;
    public static final int UC_X86_REG_RDX = 40;
    public static final int UC_X86_REG_RIP = 41;
    public static final int UC_X86_REG_RSI = 43;
    public static final int UC_X86_REG_RSP = 44;
    public static final int UC_X86_REG_SS = 49;
    public static final int UC_X86_REG_R8 = 106;
    public static final int UC_X86_REG_R9 = 107;
    public static final int UC_X86_REG_R10 = 108;
    public static final int UC_X86_REG_R11 = 109;
    public static final int UC_X86_REG_R12 = 110;
    public static final int UC_X86_REG_R13 = 111;
    public static final int UC_X86_REG_R14 = 112;
    public static final int UC_X86_REG_R15 = 113;
    public static final int UC_X86_REG_IDTR = 242;
    public static final int UC_X86_REG_GDTR = 243;
    public static final int UC_X86_REG_FS_BASE = 250;
    public static final int UC_X86_REG_GS_BASE = 251;
    public static final int UC_X86_REG_RFLAGS = 253;

    /** The 16 general registers in the instruction encoding's order (RAX, RCX, RDX, RBX, RSP, ...); a new array each time. */
    public static int[] gprs() {
        return GPRS.clone();
    }

    private static final int[] GPRS = {
        UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
        UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
        UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
        UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
    };

    // enum uc_cpu_x86 (for uc_ctl_set_cpu_model)
    public static final int UC_CPU_X86_QEMU64 = 0;
    public static final int UC_CPU_X86_HASWELL = 19;
    public static final int UC_CPU_X86_EPYC = 35;

    private UcX86() {}
}
