package dev.thaw.emulated.impl;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.api.runtime.VcpuRuntimeException;
import dev.thaw.emulated.cpu.PageToucher;
import dev.thaw.emulated.cpu.PhysicalMemory;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.support.runtime.HugePageAdvice;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A VM's RAM: one anonymous mapping per region (MAP_NORESERVE: nothing is committed until touched; isolated, so
 * the kernel's figures for it are its own and never a merged neighbour's), the
 * host mappings the restore engine registers with userfaultfd, and the interpreters' view of them. The
 * interpreters touch each page first through {@code madvise(MADV_POPULATE_*)}, so a vCPU thread waits for
 * a userfaultfd fault "in native", never in Java code (where a safepoint would wait for it forever).
 *
 * <p>Memory no userfaultfd will serve is advised {@code MADV_HUGEPAGE}: then a first touch, or a read into
 * it, costs one fault per 2 MiB instead of one per 4 KiB (about 5 µs each on a shadow-paging host). A lazy
 * restore's engine advises the memory it serves itself, where it moves whole huge pages in.
 */
final class GuestRam implements AutoCloseable {

    static final long PAGE = 4096;

    private final List<Mapping> mappings = new ArrayList<>();
    private final List<GuestMemoryRegion> regions = new ArrayList<>();
    private final PhysicalMemory physical;

    /** @param hugePages whether to advise the memory huge pages: not when a restore engine will serve it (it decides) */
    GuestRam(String vmName, List<MemoryRange> layout, boolean hugePages) {
        List<PhysicalMemory.RamRegion> ram = new ArrayList<>();
        try {
            for (MemoryRange r : layout) {
                check(vmName, r);
                Mapping m = Mapping.isolated(r.size(), Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE);
                mappings.add(m);
                if (hugePages) {
                    HugePageAdvice.advise(vmName, m.address(), m.size());
                }
                regions.add(new GuestMemoryRegion(regions.size(), r.guestAddress(), r.size(), m.address(), m.segment()));
                ram.add(new PhysicalMemory.RamRegion(r.guestAddress(), r.size(), m.segment(), m.address()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        physical = new PhysicalMemory(ram, GuestRam::touch);
    }

    private void check(String vmName, MemoryRange r) {
        if (r.size() <= 0 || r.guestAddress() % PAGE != 0 || r.size() % PAGE != 0) {
            throw new IllegalArgumentException("VM " + vmName + ": memory at 0x" + Long.toHexString(r.guestAddress()) + " of "
                    + r.size() + " bytes is not a positive number of whole pages");
        }
        for (GuestMemoryRegion g : regions) {
            if (r.guestAddress() < g.guestAddress() + g.size() && g.guestAddress() < r.guestAddress() + r.size()) {
                throw new IllegalArgumentException("VM " + vmName + ": memory at 0x" + Long.toHexString(r.guestAddress())
                        + " overlaps region " + g.index());
            }
        }
    }

    /** The {@link PageToucher}: the page's first access, made by the kernel on this thread's behalf. */
    private static void touch(long hostAddress, boolean write) {
        try {
            Libc.madvise(hostAddress & -PAGE, PAGE, write ? Libc.MADV_POPULATE_WRITE : Libc.MADV_POPULATE_READ);
        } catch (ErrnoException e) {
            throw new VcpuRuntimeException("guest page at host address 0x" + Long.toHexString(hostAddress & -PAGE)
                    + " could not be made present: " + e.getMessage(), e);
        }
    }

    List<GuestMemoryRegion> regions() {
        return List.copyOf(regions);
    }

    PhysicalMemory physical() {
        return physical;
    }

    MemorySegment slice(long guestAddress, long length) {
        for (GuestMemoryRegion r : regions) {
            if (r.contains(guestAddress, length)) {
                return r.slice(guestAddress, length);
            }
        }
        throw new IndexOutOfBoundsException("guest range 0x" + Long.toHexString(guestAddress) + "+" + length
                + " is not inside one memory region");
    }

    @Override
    public void close() {
        for (Mapping m : mappings) {
            m.close();
        }
        mappings.clear();
    }
}
