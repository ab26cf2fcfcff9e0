package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U16;
import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code uc_x86_mmr} (unicorn/x86.h): the value of Unicorn's GDTR, IDTR, LDTR and TR registers. */
public final class UcX86Mmr {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U16.withName("selector"), MemoryLayout.paddingLayout(6), U64.withName("base"), U32.withName("limit"),
            U32.withName("flags")).withName("uc_x86_mmr");

    private static final long SELECTOR = offset(LAYOUT, "selector");
    private static final long BASE = offset(LAYOUT, "base");
    private static final long LIMIT = offset(LAYOUT, "limit");
    private static final long FLAGS = offset(LAYOUT, "flags");

    private UcX86Mmr() {}

    /** Fills {@code s} (at least {@link #LAYOUT}'s size, 8-byte aligned); {@code selector} is a 16-bit value. */
    public static void write(MemorySegment s, int selector, long base, int limit, int flags) {
        s.asSlice(0, LAYOUT.byteSize()).fill((byte) 0);
        Mem.putU16(s, SELECTOR, selector, "uc_x86_mmr.selector");
        s.set(U64, BASE, base);
        s.set(U32, LIMIT, limit);
        s.set(U32, FLAGS, flags);
    }
}
