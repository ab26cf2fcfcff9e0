package dev.thaw.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What /proc/self/smaps says of a range of this process's memory. */
public final class Smaps {

    private Smaps() {}

    /** The {@code AnonHugePages} (KiB) of the mappings that start in {@code [from, from+length)}. */
    public static long anonHugeKiB(long from, long length) throws IOException {
        long total = 0;
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).matches("[0-9a-f]+")) {
                long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
                inside = start >= from && start < from + length;
            } else if (inside && line.startsWith("AnonHugePages:")) {
                total += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return total;
    }
}
