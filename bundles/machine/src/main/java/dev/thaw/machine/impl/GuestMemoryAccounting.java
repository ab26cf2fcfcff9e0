package dev.thaw.machine.impl;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.vm.GuestMemoryUse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.thaw.api.vm.Vm;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The host memory VMs' guest memory takes, from the kernel's per-mapping figures in {@code /proc/self/smaps}: of
 * each mapping inside a VM's regions, Rss (pages present), Pss (each divided by its mappers) and Anonymous (pages
 * this mapping holds alone: all of an anonymous region's, the written ones of a mapping of a shared page cache).
 * Zero pages mapped for reads count in none of them, as the kernel holds no memory for them. Guest memory is
 * mapped isolated ({@code Mapping.isolated}) and a fleet's cache is mapped over it piece for piece, so each
 * mapping lies wholly inside one VM's regions or wholly outside all of them.
 */
final class GuestMemoryAccounting {

    static final Path SMAPS = Path.of("/proc/self/smaps");
    private static final long KIB = 1024;

    private GuestMemoryAccounting() {}

    /** The use of the VMs {@code ids} (those {@code vms} finds and runs in this process) now, from one read of smaps. */
    static Map<String, GuestMemoryUse> ofVms(Collection<String> ids, Function<String, Optional<Vm>> vms) {
        Map<String, List<GuestMemoryRegion>> regions = new HashMap<>();
        for (String id : ids) {
            if (vms.apply(id).orElse(null) instanceof GuestVm vm) { // a VM in a process of its own is not in these figures
                regions.put(id, vm.memoryRegions());
            }
        }
        return of(regions);
    }

    /** The use of each VM's {@code regions} now, by VM id, from one read of smaps. */
    static Map<String, GuestMemoryUse> of(Map<String, List<GuestMemoryRegion>> regions) {
        try (BufferedReader in = Files.newBufferedReader(SMAPS)) {
            return of(in, regions);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SMAPS + ": " + e.getMessage(), e);
        }
    }

    static Map<String, GuestMemoryUse> of(BufferedReader smaps, Map<String, List<GuestMemoryRegion>> regions)
            throws IOException {
        Map<String, long[]> sums = new HashMap<>(); // rss, pss, anonymous
        regions.keySet().forEach(id -> sums.put(id, new long[3]));
        long[] current = null; // the sums of the VM whose memory the current mapping is, null for none
        String line;
        while ((line = smaps.readLine()) != null) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash) && isHex(line, dash + 1, space)) {
                current = sums.get(owner(Long.parseUnsignedLong(line, 0, dash, 16), regions));
            } else if (current != null) {
                if (line.startsWith("Rss:")) {
                    current[0] += bytes(line);
                } else if (line.startsWith("Pss:")) {
                    current[1] += bytes(line);
                } else if (line.startsWith("Anonymous:")) {
                    current[2] += bytes(line);
                }
            }
        }
        Map<String, GuestMemoryUse> uses = new HashMap<>();
        sums.forEach((id, s) -> uses.put(id, new GuestMemoryUse(s[0], Math.max(0, s[0] - s[2]), s[2], s[1])));
        return uses;
    }

    /** The VM one of whose regions holds {@code address}, or null. */
    private static String owner(long address, Map<String, List<GuestMemoryRegion>> regions) {
        for (Map.Entry<String, List<GuestMemoryRegion>> vm : regions.entrySet()) {
            for (GuestMemoryRegion r : vm.getValue()) {
                if (Long.compareUnsigned(address - r.hostAddress(), r.size()) < 0) {
                    return vm.getKey();
                }
            }
        }
        return null;
    }

    /** A line {@code "Name:   123 kB"} in bytes. */
    private static long bytes(String line) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1, line.lastIndexOf(' ')).strip()) * KIB;
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }
}
