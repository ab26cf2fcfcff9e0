package dev.thaw.emulated.cpu;

import dev.thaw.api.state.CpuidEntry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPUID table a vCPU answers from, and the optional instructions it enables. By default (see
 * {@link #defaultTable}) it reports what this interpreter implements: a GenuineIntel family 6 CPU with
 * PSE, TSC, MSR, PAE, CX8, APIC, SEP, PGE, CMOV, PAT, CLFSH, CX16, MOVBE, POPCNT, the hypervisor bit,
 * ERMS, LAHF/SAHF in 64-bit mode, LZCNT, SYSCALL, NX, 1 GiB pages, RDTSCP, long mode and an invariant
 * TSC; no x87, SSE, AVX or XSAVE (those instructions raise #UD). Leaf 1 EBX[31:24] and leaves 0xB and 0x1F
 * EDX carry the APIC ID. A table imported from a snapshot (KVM's, say) is answered as given, and the
 * optional instructions (LZCNT, TZCNT, POPCNT, MOVBE, RDTSCP, CMPXCHG16B, NX, 1 GiB pages, CR4 bits)
 * follow what it reports.
 */
final class Cpuid {

    private final Map<Long, CpuidEntry> byKey = new HashMap<>();
    private List<CpuidEntry> entries = List.of();
    private int maxBasic;
    private long maxExtended;

    // optional features, as the table reports them
    boolean lzcnt, popcnt, movbe, cx16, bmi1, rdtscp, nx, gbPages, smap, smep, fsgsbase, xsave, pcid, umip;
    int maxPhysAddr = 36;

    Cpuid(List<CpuidEntry> table) {
        set(table);
    }

    /** This interpreter's own table for the vCPU with {@code apicId} of {@code vcpuCount}. */
    static List<CpuidEntry> defaultTable(int apicId, int vcpuCount) {
        List<CpuidEntry> t = new ArrayList<>();
        int[] vendor = regs("GenuineIntel");
        t.add(e(0, 0x1f, vendor[0], vendor[2], vendor[1]));
        long ecx1 = 1L << 13 | 1L << 22 | 1L << 23 | 1L << 31;
        long edx1 = 1L << 2 | 1L << 3 | 1L << 4 | 1L << 5 | 1L << 6 | 1L << 8 | 1L << 9 | 1L << 11 | 1L << 13
                | 1L << 15 | 1L << 16 | 1L << 19;
        t.add(e(1, 0x0003_06a9L, ((long) apicId << 24) | (1L << 16) | 0x0800, ecx1, edx1));
        t.add(new CpuidEntry(7, 0, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 0, 1L << 9, 0, 0));
        int coreBits = 32 - Integer.numberOfLeadingZeros(Math.max(vcpuCount, 1) - 1);
        for (long leaf : new long[] {0xb, 0x1f}) {
            t.add(new CpuidEntry(leaf, 0, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 0, 1, 0x100, apicId));
            t.add(new CpuidEntry(leaf, 1, CpuidEntry.FLAG_SIGNIFICANT_INDEX, coreBits, Math.max(vcpuCount, 1),
                    0x201, apicId));
            t.add(new CpuidEntry(leaf, 2, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 0, 0, 2, apicId));
        }
        t.add(e(0x8000_0000L, 0x8000_0008L, 0, 0, 0));
        t.add(e(0x8000_0001L, 0, 0, 1L | 1L << 5, 1L << 11 | 1L << 20 | 1L << 26 | 1L << 27 | 1L << 29));
        byte[] brand = new byte[48];
        byte[] name = "Thaw emulated x86-64".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, brand, 0, name.length);
        for (int k = 0; k < 3; k++) {
            long[] r = new long[4];
            for (int w = 0; w < 4; w++) {
                for (int b = 0; b < 4; b++) {
                    r[w] |= (brand[k * 16 + w * 4 + b] & 0xffL) << (8 * b);
                }
            }
            t.add(e(0x8000_0002L + k, r[0], r[1], r[2], r[3]));
        }
        t.add(e(0x8000_0007L, 0, 0, 0, 1L << 8));
        t.add(e(0x8000_0008L, 0x302e, 0, 0, 0));
        return t;
    }

    private static CpuidEntry e(long function, long eax, long ebx, long ecx, long edx) {
        return new CpuidEntry(function, 0, 0, eax, ebx, ecx, edx);
    }

    private static int[] regs(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        int[] r = new int[3];
        for (int k = 0; k < 12; k++) {
            r[k / 4] |= (b[k] & 0xff) << (8 * (k % 4));
        }
        return r;
    }

    private static long key(long function, long index) {
        return (function << 32) | (index & 0xffff_ffffL);
    }

    private static final long ANY = 0xffff_ffffL;

    /** Replaces the table and re-derives the optional features. */
    void set(List<CpuidEntry> table) {
        entries = List.copyOf(table);
        byKey.clear();
        for (CpuidEntry e : entries) {
            boolean indexed = (e.flags() & CpuidEntry.FLAG_SIGNIFICANT_INDEX) != 0;
            byKey.put(key(e.function(), indexed ? e.index() : ANY), e);
        }
        maxBasic = (int) reg(0, 0, 0);
        maxExtended = reg(0x8000_0000L, 0, 0);
        long ecx1 = reg(1, 0, 2);
        long ebx7 = reg(7, 0, 1);
        long ecx7 = reg(7, 0, 2);
        long ecxE1 = reg(0x8000_0001L, 0, 2);
        long edxE1 = reg(0x8000_0001L, 0, 3);
        cx16 = (ecx1 & 1L << 13) != 0;
        pcid = (ecx1 & 1L << 17) != 0;
        movbe = (ecx1 & 1L << 22) != 0;
        popcnt = (ecx1 & 1L << 23) != 0;
        xsave = (ecx1 & 1L << 26) != 0;
        fsgsbase = (ebx7 & 1) != 0;
        bmi1 = (ebx7 & 1L << 3) != 0;
        smep = (ebx7 & 1L << 7) != 0;
        smap = (ebx7 & 1L << 20) != 0;
        umip = (ecx7 & 1L << 2) != 0;
        lzcnt = (ecxE1 & 1L << 5) != 0;
        nx = (edxE1 & 1L << 20) != 0;
        gbPages = (edxE1 & 1L << 26) != 0;
        rdtscp = (edxE1 & 1L << 27) != 0;
        long phys = reg(0x8000_0008L, 0, 0) & 0xff;
        maxPhysAddr = phys != 0 ? (int) phys : 36;
    }

    List<CpuidEntry> table() {
        return entries;
    }

    /** CR4 bits beyond the always-valid ones that the reported features allow. */
    long extraCr4Bits() {
        long b = 0;
        if (fsgsbase) {
            b |= Cpu.CR4_FSGSBASE;
        }
        if (xsave) {
            b |= Cpu.CR4_OSXSAVE;
        }
        if (smep) {
            b |= Cpu.CR4_SMEP;
        }
        if (smap) {
            b |= Cpu.CR4_SMAP;
        }
        if (pcid) {
            b |= Cpu.CR4_PCIDE;
        }
        if (umip) {
            b |= Cpu.CR4_UMIP;
        }
        return b;
    }

    private CpuidEntry find(long function, long index) {
        CpuidEntry e = byKey.get(key(function, index & ANY));
        return e != null ? e : byKey.get(key(function, ANY));
    }

    private long reg(long function, long index, int which) {
        CpuidEntry e = find(function, index);
        if (e == null) {
            return 0;
        }
        return switch (which) {
            case 0 -> e.eax();
            case 1 -> e.ebx();
            case 2 -> e.ecx();
            default -> e.edx();
        };
    }

    /** CPUID leaf {@code eax}, subleaf {@code ecx}, into {@code out} (EAX, EBX, ECX, EDX). */
    void query(int eax, int ecx, long[] out) {
        long function = eax & 0xffff_ffffL;
        boolean extended = function >= 0x8000_0000L;
        if ((!extended && function > maxBasic) || (extended && function > maxExtended && function < 0x9000_0000L)) {
            function = maxBasic; // Intel: the highest basic leaf
        }
        CpuidEntry e = find(function, ecx & 0xffff_ffffL);
        if (e == null) {
            out[0] = out[1] = out[2] = out[3] = 0;
            if (function == 0xb || function == 0x1f) {
                out[2] = ecx & 0xff;
            }
            return;
        }
        out[0] = e.eax();
        out[1] = e.ebx();
        out[2] = e.ecx();
        out[3] = e.edx();
    }
}
