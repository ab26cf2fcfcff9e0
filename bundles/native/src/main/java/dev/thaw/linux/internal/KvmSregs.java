package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.u64;

import dev.thaw.api.state.Sregs;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_sregs} (asm/kvm.h), for KVM_GET_SREGS and KVM_SET_SREGS. */
public final class KvmSregs {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            KvmSegment.LAYOUT.withName("cs"), KvmSegment.LAYOUT.withName("ds"), KvmSegment.LAYOUT.withName("es"),
            KvmSegment.LAYOUT.withName("fs"), KvmSegment.LAYOUT.withName("gs"), KvmSegment.LAYOUT.withName("ss"),
            KvmSegment.LAYOUT.withName("tr"), KvmSegment.LAYOUT.withName("ldt"),
            KvmDtable.LAYOUT.withName("gdt"), KvmDtable.LAYOUT.withName("idt"),
            U64.withName("cr0"), U64.withName("cr2"), U64.withName("cr3"), U64.withName("cr4"), U64.withName("cr8"),
            U64.withName("efer"), U64.withName("apic_base"),
            MemoryLayout.sequenceLayout(Sregs.INTERRUPT_BITMAP_WORDS, U64).withName("interrupt_bitmap"))
            .withName("struct kvm_sregs");

    private static final long CS = offset(LAYOUT, "cs");
    private static final long DS = offset(LAYOUT, "ds");
    private static final long ES = offset(LAYOUT, "es");
    private static final long FS = offset(LAYOUT, "fs");
    private static final long GS = offset(LAYOUT, "gs");
    private static final long SS = offset(LAYOUT, "ss");
    private static final long TR = offset(LAYOUT, "tr");
    private static final long LDT = offset(LAYOUT, "ldt");
    private static final long GDT = offset(LAYOUT, "gdt");
    private static final long IDT = offset(LAYOUT, "idt");
    private static final long CR0 = offset(LAYOUT, "cr0");
    private static final long CR2 = offset(LAYOUT, "cr2");
    private static final long CR3 = offset(LAYOUT, "cr3");
    private static final long CR4 = offset(LAYOUT, "cr4");
    private static final long CR8 = offset(LAYOUT, "cr8");
    private static final long EFER = offset(LAYOUT, "efer");
    private static final long APIC_BASE = offset(LAYOUT, "apic_base");
    private static final long INTERRUPT_BITMAP = offset(LAYOUT, "interrupt_bitmap");

    private KvmSregs() {}

    private static MemorySegment segment(MemorySegment s, long offset) {
        return s.asSlice(offset, KvmSegment.LAYOUT);
    }

    public static Sregs read(MemorySegment s) {
        long[] bitmap = new long[Sregs.INTERRUPT_BITMAP_WORDS];
        for (int i = 0; i < bitmap.length; i++) {
            bitmap[i] = u64(s, INTERRUPT_BITMAP + 8L * i);
        }
        return new Sregs(
                KvmSegment.read(segment(s, CS)), KvmSegment.read(segment(s, DS)),
                KvmSegment.read(segment(s, ES)), KvmSegment.read(segment(s, FS)),
                KvmSegment.read(segment(s, GS)), KvmSegment.read(segment(s, SS)),
                KvmSegment.read(segment(s, TR)), KvmSegment.read(segment(s, LDT)),
                KvmDtable.read(s.asSlice(GDT, KvmDtable.LAYOUT)), KvmDtable.read(s.asSlice(IDT, KvmDtable.LAYOUT)),
                u64(s, CR0), u64(s, CR2), u64(s, CR3), u64(s, CR4), u64(s, CR8), u64(s, EFER), u64(s, APIC_BASE),
                bitmap);
    }

    public static void write(MemorySegment s, Sregs v) {
        KvmSegment.write(segment(s, CS), v.cs(), "cs");
        KvmSegment.write(segment(s, DS), v.ds(), "ds");
        KvmSegment.write(segment(s, ES), v.es(), "es");
        KvmSegment.write(segment(s, FS), v.fs(), "fs");
        KvmSegment.write(segment(s, GS), v.gs(), "gs");
        KvmSegment.write(segment(s, SS), v.ss(), "ss");
        KvmSegment.write(segment(s, TR), v.tr(), "tr");
        KvmSegment.write(segment(s, LDT), v.ldt(), "ldt");
        KvmDtable.write(s.asSlice(GDT, KvmDtable.LAYOUT), v.gdt(), "gdt");
        KvmDtable.write(s.asSlice(IDT, KvmDtable.LAYOUT), v.idt(), "idt");
        s.set(U64, CR0, v.cr0());
        s.set(U64, CR2, v.cr2());
        s.set(U64, CR3, v.cr3());
        s.set(U64, CR4, v.cr4());
        s.set(U64, CR8, v.cr8());
        s.set(U64, EFER, v.efer());
        s.set(U64, APIC_BASE, v.apicBase());
        long[] bitmap = v.interruptBitmap();
        for (int i = 0; i < bitmap.length; i++) {
            s.set(U64, INTERRUPT_BITMAP + 8L * i, bitmap[i]);
        }
    }
}
