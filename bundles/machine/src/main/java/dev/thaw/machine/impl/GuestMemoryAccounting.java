package dev.thaw.machine.impl;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.vm.GuestMemoryUse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The host memory a VM's guest memory takes, from the kernel's per-mapping figures in {@code /proc/self/smaps}:
 * of each mapping inside the VM's regions, Rss (pages present), Pss (each divided by its mappers) and Anonymous
 * (pages this mapping holds alone: all of an anonymous region's, the written ones of a mapping of a shared page
 * cache). Zero pages mapped for reads count in none of them, as the kernel holds no memory for them.
 */
final class GuestMemoryAccounting {

    static final Path SMAPS = Path.of("/proc/self/smaps");
    private static final long KIB = 1024;

    private GuestMemoryAccounting() {}

    /** The use of {@code regions} now. */
    static GuestMemoryUse of(List<GuestMemoryRegion> regions) {
        try (BufferedReader in = Files.newBufferedReader(SMAPS)) {
            return of(in, regions.stream().map(r -> new long[] {r.hostAddress(), r.hostAddress() + r.size()}).toList());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SMAPS + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sums the mappings of {@code smaps} that lie in one of {@code ranges} ([start, end) host addresses). A mapping
     * the kernel merged with a neighbour outside the ranges counts by the share of it inside them.
     */
    static GuestMemoryUse of(BufferedReader smaps, List<long[]> ranges) throws IOException {
        long rss = 0;
        long pss = 0;
        long anonymous = 0;
        double share = 0; // of the current mapping inside the ranges; 0 when outside
        String line;
        while ((line = smaps.readLine()) != null) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash) && isHex(line, dash + 1, space)) {
                long start = Long.parseUnsignedLong(line, 0, dash, 16);
                long end = Long.parseUnsignedLong(line, dash + 1, space, 16);
                share = (double) overlap(start, end, ranges) / (end - start);
            } else if (share > 0) {
                if (line.startsWith("Rss:")) {
                    rss += scaled(line, share);
                } else if (line.startsWith("Pss:")) {
                    pss += scaled(line, share);
                } else if (line.startsWith("Anonymous:")) {
                    anonymous += scaled(line, share);
                }
            }
        }
        return new GuestMemoryUse(rss, Math.max(0, rss - anonymous), anonymous, pss);
    }

    private static long overlap(long start, long end, List<long[]> ranges) {
        long inside = 0;
        for (long[] r : ranges) {
            inside += Math.max(0, Math.min(end, r[1]) - Math.max(start, r[0]));
        }
        return inside;
    }

    /** A line {@code "Name:   123 kB"} in bytes, times {@code share}. */
    private static long scaled(String line, double share) {
        String[] words = line.trim().split("\\s+");
        long bytes = Long.parseLong(words[1]) * KIB;
        return share >= 1 ? bytes : Math.round(bytes * share);
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
