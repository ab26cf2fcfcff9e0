package dev.thaw.bench.impl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's memory and the host's, as the kernel reports them. */
final class ProcessMemory {

    static final Path SMAPS_ROLLUP = Path.of("/proc/self/smaps_rollup");
    static final Path SMAPS = Path.of("/proc/self/smaps");
    static final Path MEMINFO = Path.of("/proc/meminfo");

    private ProcessMemory() {}

    /** The process's proportional set size in bytes: its private pages, and each shared page divided by its mappers. */
    static long pss() {
        return kibField(SMAPS_ROLLUP, "Pss:");
    }

    /**
     * {@link #pss()} after a full collection: the heap garbage of the moment is not what the VMs hold. Only while no
     * userfaultfd-registered memory is touched from Java (ENVIRONMENT.md: a Java thread stalled in a fault blocks the
     * collection's safepoint).
     */
    static long pssAfterGc() {
        System.gc();
        return pss();
    }

    /** The proportional set size of the mappings whose name contains {@code name} (a memfd's, say), in bytes. */
    static long pssOfMappings(String name) {
        long kib = 0;
        boolean inside = false;
        try {
            for (String line : Files.readAllLines(SMAPS)) {
                int space = line.indexOf(' ');
                if (space > 0 && line.substring(0, space).matches("[0-9a-f]+-[0-9a-f]+")) {
                    inside = line.contains(name);
                } else if (inside && line.startsWith("Pss:")) {
                    kib += Long.parseLong(line.substring(4).replace("kB", "").strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SMAPS + ": " + e.getMessage(), e);
        }
        return kib * 1024;
    }

    /** What the host can give without swapping ({@code MemAvailable}), in bytes. */
    static long hostAvailable() {
        return kibField(MEMINFO, "MemAvailable:");
    }

    /** The value of the line {@code "Name:   123 kB"} of {@code file}, in bytes. */
    private static long kibField(Path file, String name) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.substring(name.length()).replace("kB", "").strip()) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException(file + " has no '" + name + "' line");
    }
}
