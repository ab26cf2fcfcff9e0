package dev.thaw.bench.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.bench.FleetBenchReport;
import dev.thaw.api.bench.FleetBenchRequest;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.Memfd;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fleet bench's request checks and its ratios, without VMs. */
class FleetBenchRequestTest {

    static final long MEMORY = 256L << 20;
    static final long WORKING_SET = 32L << 20;

    @TempDir
    Path dir;

    @Test
    void aRequestRefusesABadCountOrMemoryInOneLine() {
        Map<String, Runnable> bad = Map.of(
                "--count 0: a fleet has 1 to 256 VMs", () -> new FleetBenchRequest(0, MEMORY, WORKING_SET, 10, dir),
                "--count 257: a fleet has 1 to 256 VMs", () -> new FleetBenchRequest(257, MEMORY, WORKING_SET, 10, dir),
                "--memory 4 MiB: a multiple of 2 MiB, at least 8 MiB", () -> new FleetBenchRequest(2, 4L << 20, 4096, 10, dir),
                "--memory 257 MiB: a multiple of 2 MiB, at least 8 MiB",
                () -> new FleetBenchRequest(2, MEMORY + (1 << 20), WORKING_SET, 10, dir),
                "--working-set 256 MiB: a positive multiple of 4 KiB, smaller than the memory (256 MiB)",
                () -> new FleetBenchRequest(2, MEMORY, MEMORY, 10, dir),
                "--write-percent 0: 1 to 100", () -> new FleetBenchRequest(2, MEMORY, WORKING_SET, 0, dir),
                "--resident 16 MiB: a multiple of 4 KiB, at least the working set (32 MiB) and smaller than the memory (256 MiB)",
                () -> new FleetBenchRequest(2, MEMORY, WORKING_SET, 10, dir, 16L << 20),
                "--resident 256 MiB: a multiple of 4 KiB, at least the working set (32 MiB) and smaller than the memory (256 MiB)",
                () -> new FleetBenchRequest(2, MEMORY, WORKING_SET, 10, dir, MEMORY),
                "--resident 65537 bytes: a multiple of 4 KiB, at least the working set (32 MiB) and smaller than the memory (256 MiB)",
                () -> new FleetBenchRequest(2, MEMORY, WORKING_SET, 10, dir, 65537));
        assertEquals(FleetBenchRequest.RESIDENT_AS_WORKING_SET, new FleetBenchRequest(2, MEMORY, WORKING_SET, 10, dir).residentBytes());
        assertEquals(192L << 20, new FleetBenchRequest(2, MEMORY, WORKING_SET, 10, dir, 192L << 20).residentBytes());
        bad.forEach((message, make) -> assertEquals(message, assertThrows(IllegalArgumentException.class, make::run).getMessage()));
    }

    private static FleetBenchReport.Row row(String mode, double answeredMs, long hostBytes, Long written) {
        return new FleetBenchReport.Row(mode, 4, 1, answeredMs, answeredMs, 4, hostBytes, hostBytes, written, 0, "");
    }

    @Test
    void theRatiosAreTheTargetsFiguresAndLeaveOutAMissingSide() {
        Map<String, Double> r = FleetBench.ratios(List.of(row("shared", 300, 140, 40L), row("lazy", 400, 420, null),
                row("eager", 600, 420, null)), 100);
        assertEquals(1.0, r.get(FleetBench.HOST_RATIO), 1e-9);
        assertEquals(0.75, r.get(FleetBench.TIME_RATIO), 1e-9);
        assertEquals(0.5, r.get("allAnswered shared/eager"), 1e-9);
        assertEquals(1 / 3.0, r.get("hostMemory shared/lazy"), 1e-9);
        assertEquals(List.of(FleetBench.HOST_RATIO, FleetBench.PSS_RATIO, "pssFreed shared/(snapshot+written)",
                "allAnswered shared/eager"), List.copyOf(
                FleetBench.ratios(List.of(row("shared", 300, 140, 40L), row("eager", 600, 420, null)), 100).keySet()));
    }

    /** What the bench checks after a shared row: the memory of a named memfd's mappings, gone once unmapped. */
    @Test
    void theMemoryOfAMemfdsMappingsIsCountedUntilTheyAreUnmapped() {
        String name = FleetRow.CACHE_MAPPING.substring("memfd:".length()) + "request-test.snap";
        long size = 4L << 20;
        try (Memfd memfd = Memfd.create(name, Memfd.MFD_CLOEXEC)) {
            memfd.truncate(size);
            try (Mapping m = Mapping.file(memfd.fd(), size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, 0)) {
                for (long at = 0; at < size; at += 4096) {
                    m.segment().set(ValueLayout.JAVA_BYTE, at, (byte) 1);
                }
                long counted = ProcessMemory.pssOfMappings(FleetRow.CACHE_MAPPING + "request-test.snap");
                assertTrue(counted >= size / 2 && counted <= size, "about the 4 MiB touched: " + counted);
            }
        }
        assertEquals(0, ProcessMemory.pssOfMappings(FleetRow.CACHE_MAPPING + "request-test.snap"));
    }
}
