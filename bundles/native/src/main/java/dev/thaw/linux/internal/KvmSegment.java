package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U16;
import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU16;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.putU8;
import static dev.thaw.linux.internal.Mem.u16;
import static dev.thaw.linux.internal.Mem.u32;
import static dev.thaw.linux.internal.Mem.u64;
import static dev.thaw.linux.internal.Mem.u8;

import dev.thaw.api.state.Segment;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_segment} (asm/kvm.h), part of {@code struct kvm_sregs}. */
public final class KvmSegment {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("base"), U32.withName("limit"), U16.withName("selector"), U8.withName("type"),
            U8.withName("present"), U8.withName("dpl"), U8.withName("db"), U8.withName("s"), U8.withName("l"),
            U8.withName("g"), U8.withName("avl"), U8.withName("unusable"), U8.withName("padding"))
            .withName("struct kvm_segment");

    private static final long BASE = offset(LAYOUT, "base");
    private static final long LIMIT = offset(LAYOUT, "limit");
    private static final long SELECTOR = offset(LAYOUT, "selector");
    private static final long TYPE = offset(LAYOUT, "type");
    private static final long PRESENT = offset(LAYOUT, "present");
    private static final long DPL = offset(LAYOUT, "dpl");
    private static final long DB = offset(LAYOUT, "db");
    private static final long S = offset(LAYOUT, "s");
    private static final long L = offset(LAYOUT, "l");
    private static final long G = offset(LAYOUT, "g");
    private static final long AVL = offset(LAYOUT, "avl");
    private static final long UNUSABLE = offset(LAYOUT, "unusable");

    private KvmSegment() {}

    public static Segment read(MemorySegment s) {
        return new Segment(u64(s, BASE), u32(s, LIMIT), u16(s, SELECTOR), u8(s, TYPE), u8(s, PRESENT),
                u8(s, DPL), u8(s, DB), u8(s, S), u8(s, L), u8(s, G), u8(s, AVL), u8(s, UNUSABLE));
    }

    /**
     * Writes {@code v}; {@code name} (e.g. {@code cs}) prefixes the field in range errors. The prefix is
     * added only on error: this runs for eight segments per KVM_SET_SREGS, on the restore path.
     */
    public static void write(MemorySegment s, Segment v, String name) {
        try {
            s.set(U64, BASE, v.base());
            putU32(s, LIMIT, v.limit(), "limit");
            putU16(s, SELECTOR, v.selector(), "selector");
            putU8(s, TYPE, v.type(), "type");
            putU8(s, PRESENT, v.present(), "present");
            putU8(s, DPL, v.dpl(), "dpl");
            putU8(s, DB, v.db(), "db");
            putU8(s, S, v.s(), "s");
            putU8(s, L, v.l(), "l");
            putU8(s, G, v.g(), "g");
            putU8(s, AVL, v.avl(), "avl");
            putU8(s, UNUSABLE, v.unusable(), "unusable");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + "." + e.getMessage(), e);
        }
    }
}
