package dev.thaw.emulated.cpu;

import dev.thaw.api.state.MsrEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model-specific registers (RDMSR/WRMSR): EFER, APIC_BASE, TSC, TSC_AUX, STAR/LSTAR/CSTAR/SFMASK,
 * FS_BASE/GS_BASE/KERNEL_GS_BASE, PAT, MISC_ENABLE and SYSENTER_CS/ESP/EIP; any other index raises
 * #GP(0), except MSRs a snapshot brought along ({@link #importMsrs}): those are kept, readable and
 * writable as plain values, and exported again unchanged.
 *
 * <p>APIC_BASE is the {@link InterruptSource}'s: RDMSR reads what the local APIC has, WRMSR checks the
 * reserved bits and hands the value to the APIC, which may refuse it (#GP). It travels in a state's Sregs,
 * and the runtime restores it with the APIC. TSC_DEADLINE (0x6E0) is not modelled, and the default CPUID
 * does not report it (nor x2APIC, which the APIC does not emulate).
 *
 * <p>The TSC counts {@link System#nanoTime()} at {@link #tscKhz} (1 GHz, a tick a nanosecond, unless a
 * state brought the rate of the machine it was saved on) from the value WRMSR TSC and import set; all vCPUs
 * of a VM started from one state read the same clock.
 */
final class Msrs {

    static final long TSC = 0x10, APIC_BASE = 0x1b, MISC_ENABLE = 0x1a0, PAT = 0x277, SYSENTER_CS = 0x174,
            SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176, EFER = 0xc000_0080L, STAR = 0xc000_0081L,
            LSTAR = 0xc000_0082L, CSTAR = 0xc000_0083L, SFMASK = 0xc000_0084L, FS_BASE = 0xc000_0100L,
            GS_BASE = 0xc000_0101L, KERNEL_GS_BASE = 0xc000_0102L, TSC_AUX = 0xc000_0103L;

    /** The saveable MSRs in their restore order (EFER, APIC_BASE, FS/GS_BASE travel in Sregs). */
    static final long[] SAVED = {TSC, SYSENTER_CS, SYSENTER_ESP, SYSENTER_EIP, STAR, LSTAR, CSTAR, SFMASK,
        KERNEL_GS_BASE, TSC_AUX, PAT, MISC_ENABLE};

    private final Cpu c;

    /** The rate of the TSC of a vCPU that no state has given another: 1 GHz. */
    static final long DEFAULT_TSC_KHZ = 1_000_000;
    private static final long NANOS_PER_MILLI = 1_000_000;

    /** The TSC's rate in kHz: ticks per millisecond. */
    private long tscKhz = DEFAULT_TSC_KHZ;
    /** The TSC was {@link #tscBase} at {@link #tscBaseNanos} of {@link System#nanoTime()}; it counts on from there. */
    private long tscBase = System.nanoTime();
    private long tscBaseNanos = tscBase;
    long star, lstar, cstar, sfmask, kernelGsBase, tscAux;
    long pat = 0x0007_0406_0007_0406L;
    long miscEnable = 1; // fast strings
    long sysenterCs, sysenterEsp, sysenterEip;
    /** MSRs this model does not know, carried through from an imported state. */
    final Map<Long, Long> carried = new LinkedHashMap<>();

    Msrs(Cpu c) {
        this.c = c;
    }

    long tsc() {
        return tscBase + ticks(System.nanoTime() - tscBaseNanos);
    }

    /** The TSC counts on from {@code value} now. */
    private void setTsc(long value) {
        tscBaseNanos = System.nanoTime();
        tscBase = value;
    }

    long tscKhz() {
        return tscKhz;
    }

    /** The TSC counts on from where it is at {@code khz}. */
    void setTscKhz(long khz) {
        if (khz <= 0) {
            throw new IllegalArgumentException("TSC rate " + khz + " kHz");
        }
        long now = System.nanoTime();
        tscBase += ticks(now - tscBaseNanos);
        tscBaseNanos = now;
        tscKhz = khz;
    }

    /** TSC ticks in {@code nanos}, exact to a tick and without overflow for centuries at any 32-bit kHz rate. */
    private long ticks(long nanos) {
        return nanos / NANOS_PER_MILLI * tscKhz + nanos % NANOS_PER_MILLI * tscKhz / NANOS_PER_MILLI;
    }

    long read(long index) {
        if (index == TSC) {
            return tsc();
        } else if (index == APIC_BASE) {
            return c.irq.apicBaseMsr();
        } else if (index == MISC_ENABLE) {
            return miscEnable;
        } else if (index == PAT) {
            return pat;
        } else if (index == SYSENTER_CS) {
            return sysenterCs;
        } else if (index == SYSENTER_ESP) {
            return sysenterEsp;
        } else if (index == SYSENTER_EIP) {
            return sysenterEip;
        } else if (index == EFER) {
            return c.efer;
        } else if (index == STAR) {
            return star;
        } else if (index == LSTAR) {
            return lstar;
        } else if (index == CSTAR) {
            return cstar;
        } else if (index == SFMASK) {
            return sfmask;
        } else if (index == FS_BASE) {
            return c.segBase[Cpu.FS];
        } else if (index == GS_BASE) {
            return c.segBase[Cpu.GS];
        } else if (index == KERNEL_GS_BASE) {
            return kernelGsBase;
        } else if (index == TSC_AUX && c.owner.cpuid.rdtscp) {
            return tscAux;
        }
        Long v = carried.get(index);
        if (v == null) {
            throw CpuException.gp0();
        }
        return v;
    }

    void write(long index, long v) {
        if (index == TSC) {
            setTsc(v);
        } else if (index == APIC_BASE) {
            writeApicBase(v);
        } else if (index == MISC_ENABLE) {
            miscEnable = v;
        } else if (index == PAT) {
            for (int k = 0; k < 8; k++) {
                long t = (v >>> (8 * k)) & 0xff;
                if (t == 2 || t == 3 || t > 7) {
                    throw CpuException.gp0();
                }
            }
            pat = v;
        } else if (index == SYSENTER_CS) {
            sysenterCs = v & 0xffff;
        } else if (index == SYSENTER_ESP) {
            sysenterEsp = canonical(v);
        } else if (index == SYSENTER_EIP) {
            sysenterEip = canonical(v);
        } else if (index == EFER) {
            ControlRegs.writeEfer(c, v);
        } else if (index == STAR) {
            star = v;
        } else if (index == LSTAR) {
            lstar = canonical(v);
        } else if (index == CSTAR) {
            cstar = canonical(v);
        } else if (index == SFMASK) {
            sfmask = v & 0xffff_ffffL;
        } else if (index == FS_BASE) {
            c.segBase[Cpu.FS] = canonical(v);
        } else if (index == GS_BASE) {
            c.segBase[Cpu.GS] = canonical(v);
        } else if (index == KERNEL_GS_BASE) {
            kernelGsBase = canonical(v);
        } else if (index == TSC_AUX && c.owner.cpuid.rdtscp) {
            if ((v >>> 32) != 0) {
                throw CpuException.gp0();
            }
            tscAux = v;
        } else if (carried.containsKey(index)) {
            carried.put(index, v);
        } else {
            throw CpuException.gp0();
        }
    }

    /** Bits 0-7 and 9 are reserved, and the address bits beyond the physical address width; bit 10 is x2APIC's. */
    private void writeApicBase(long v) {
        long reserved = 0x2ffL | (-1L << c.owner.cpuid.maxPhysAddr);
        if ((v & reserved) != 0 || !c.irq.setApicBaseMsr(v)) {
            throw CpuException.gp0();
        }
        c.checkInterrupts = true; // enabling or disabling the APIC changes what it delivers
    }

    private static long canonical(long v) {
        if (((v << 16) >> 16) != v) {
            throw CpuException.gp0();
        }
        return v;
    }

    /** The saveable MSRs in restore order, then the carried ones in the order they came. */
    List<MsrEntry> exportMsrs() {
        List<MsrEntry> out = new ArrayList<>();
        for (long index : SAVED) {
            if (index == TSC_AUX && !c.owner.cpuid.rdtscp) {
                out.add(new MsrEntry(index, tscAux));
                continue;
            }
            out.add(new MsrEntry(index, read(index)));
        }
        for (Map.Entry<Long, Long> e : carried.entrySet()) {
            out.add(new MsrEntry(e.getKey(), e.getValue()));
        }
        return out;
    }

    /**
     * Applies {@code msrs} in their order; unknown ones are carried. Invalid values are stored as given.
     * APIC_BASE, if present, is left to the runtime, which restores it with the local APIC (from Sregs).
     */
    void importMsrs(List<MsrEntry> msrs) {
        carried.clear();
        for (MsrEntry e : msrs) {
            long index = e.index();
            long v = e.data();
            if (index == TSC) {
                setTsc(v);
            } else if (index == APIC_BASE) {
                continue;
            } else if (index == MISC_ENABLE) {
                miscEnable = v;
            } else if (index == PAT) {
                pat = v;
            } else if (index == SYSENTER_CS) {
                sysenterCs = v;
            } else if (index == SYSENTER_ESP) {
                sysenterEsp = v;
            } else if (index == SYSENTER_EIP) {
                sysenterEip = v;
            } else if (index == EFER) {
                c.efer = v;
            } else if (index == STAR) {
                star = v;
            } else if (index == LSTAR) {
                lstar = v;
            } else if (index == CSTAR) {
                cstar = v;
            } else if (index == SFMASK) {
                sfmask = v;
            } else if (index == FS_BASE) {
                c.segBase[Cpu.FS] = v;
            } else if (index == GS_BASE) {
                c.segBase[Cpu.GS] = v;
            } else if (index == KERNEL_GS_BASE) {
                kernelGsBase = v;
            } else if (index == TSC_AUX) {
                tscAux = v;
            } else {
                carried.put(index, v);
            }
        }
    }
}
