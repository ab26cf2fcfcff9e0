package dev.thaw.emulated.diff;

/** Names and hex for reports. */
final class Text {

    private static final String[] R64 = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    private static final String[] R32 = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
        "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
    private static final String[] R16 = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
        "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
    private static final String[] R8 = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
        "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
    private static final String[] R8_HIGH = {"ah", "ch", "dh", "bh"};
    private static final String[] VECTORS = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "9",
        "#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM"};

    private Text() {}

    /**
     * A register's name at {@code size} bytes; for byte registers {@code code} 0-15 are AL..R15B (4-7
     * being SPL..DIL) and {@link Asm#AH}..{@link Asm#BH} the legacy high bytes.
     */
    static String reg(int size, int code) {
        return switch (size) {
            case 1 -> code >= Asm.AH ? R8_HIGH[code - Asm.AH] : R8[code];
            case 2 -> R16[code];
            case 4 -> R32[code];
            default -> R64[code];
        };
    }

    static String vector(int v) {
        return v >= 0 && v < VECTORS.length ? VECTORS[v] : Integer.toString(v);
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    static String hex(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (byte x : bytes) {
            if (!b.isEmpty()) {
                b.append(' ');
            }
            b.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return b.toString();
    }
}
