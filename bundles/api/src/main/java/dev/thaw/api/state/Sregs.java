package dev.thaw.api.state;

import java.util.Arrays;
import java.util.Objects;

/**
 * Segment, control and descriptor table registers ({@code struct kvm_sregs}).
 *
 * @param interruptBitmap four 64-bit words, one bit per vector: an external interrupt KVM has accepted
 *     but not yet delivered (at most one bit set)
 */
public record Sregs(
        Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss,
        Segment tr, Segment ldt,
        DescriptorTable gdt, DescriptorTable idt,
        long cr0, long cr2, long cr3, long cr4, long cr8,
        long efer, long apicBase,
        long[] interruptBitmap) {

    /** Words in {@link #interruptBitmap()}: 256 vectors / 64. */
    public static final int INTERRUPT_BITMAP_WORDS = 4;

    public Sregs {
        Objects.requireNonNull(cs, "cs");
        Objects.requireNonNull(ds, "ds");
        Objects.requireNonNull(es, "es");
        Objects.requireNonNull(fs, "fs");
        Objects.requireNonNull(gs, "gs");
        Objects.requireNonNull(ss, "ss");
        Objects.requireNonNull(tr, "tr");
        Objects.requireNonNull(ldt, "ldt");
        Objects.requireNonNull(gdt, "gdt");
        Objects.requireNonNull(idt, "idt");
        if (interruptBitmap.length != INTERRUPT_BITMAP_WORDS) {
            throw new IllegalArgumentException("interruptBitmap has " + interruptBitmap.length
                    + " words, expected " + INTERRUPT_BITMAP_WORDS);
        }
        interruptBitmap = interruptBitmap.clone();
    }

    @Override
    public long[] interruptBitmap() {
        return interruptBitmap.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sregs x
                && cs.equals(x.cs) && ds.equals(x.ds) && es.equals(x.es) && fs.equals(x.fs)
                && gs.equals(x.gs) && ss.equals(x.ss) && tr.equals(x.tr) && ldt.equals(x.ldt)
                && gdt.equals(x.gdt) && idt.equals(x.idt)
                && cr0 == x.cr0 && cr2 == x.cr2 && cr3 == x.cr3 && cr4 == x.cr4 && cr8 == x.cr8
                && efer == x.efer && apicBase == x.apicBase
                && Arrays.equals(interruptBitmap, x.interruptBitmap);
    }

    @Override
    public int hashCode() {
        return Objects.hash(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase)
                * 31 + Arrays.hashCode(interruptBitmap);
    }

    @Override
    public String toString() {
        return "Sregs[cs=" + cs + ", ds=" + ds + ", es=" + es + ", fs=" + fs + ", gs=" + gs + ", ss=" + ss
                + ", tr=" + tr + ", ldt=" + ldt + ", gdt=" + gdt + ", idt=" + idt
                + ", cr0=0x" + Long.toHexString(cr0) + ", cr2=0x" + Long.toHexString(cr2)
                + ", cr3=0x" + Long.toHexString(cr3) + ", cr4=0x" + Long.toHexString(cr4)
                + ", cr8=0x" + Long.toHexString(cr8) + ", efer=0x" + Long.toHexString(efer)
                + ", apicBase=0x" + Long.toHexString(apicBase)
                + ", interruptBitmap=" + Arrays.toString(interruptBitmap) + "]";
    }
}
