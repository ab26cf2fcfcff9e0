package dev.thaw.bench.impl;

import dev.thaw.api.snapshot.SnapshotDevice;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * QEMU's own eager load of a QEMU file, for {@code thaw:bench qemu-file}: a QEMU started like the one that
 * wrote it, as far as the file tells (machine type, RAM size, a firmware of the size its {@code pc.bios}
 * block has, a VGA where it has VGA RAM, its serial ports and vCPUs), loading the file with {@code migrate-incoming}.
 */
final class QemuFileLoad {

    static final String QEMU_FORMAT = "qemu-mapped-ram";
    /** QEMU's section names (vmstate names) of an ISA serial port and of a vCPU's two states. */
    static final String SERIAL = "serial";
    static final String CPU = "cpu";
    static final String CPU_COMMON = "cpu_common";

    private final Path file;
    private final long offset;
    private final List<String> machine;
    private final Path firmware;
    private final long presentBytes;

    private QemuFileLoad(Path file, long offset, List<String> machine, Path firmware, long presentBytes) {
        this.file = file;
        this.offset = offset;
        this.machine = List.copyOf(machine);
        this.firmware = firmware;
        this.presentBytes = presentBytes;
    }

    /** The load, or null with the reason in {@code notes} when there will be no QEMU row. */
    static QemuFileLoad prepare(SnapshotReader reader, Path file, long offset, List<String> notes) {
        if (!reader.format().equals(QEMU_FORMAT)) {
            notes.add("qemu row skipped: " + file + " is a " + reader.format() + " file, which QEMU does not load");
            return null;
        }
        Optional<String> unavailable = QemuPeer.unavailable();
        if (unavailable.isPresent()) {
            notes.add("qemu row skipped: " + unavailable.get());
            return null;
        }
        long present = 0;
        List<String> args = new ArrayList<>(List.of("-M", reader.origin().machine()));
        Path firmware = null;
        for (SnapshotRegion r : reader.regions()) {
            present += r.presentPages() * r.pageSize();
            if (r.name().equals("pc.bios")) {
                firmware = zeros(r.size()); // its contents come from the file
                args.addAll(List.of("-bios", QemuPeer.option(firmware)));
            } else if (r.name().endsWith("/vga.vram")) {
                args.addAll(List.of("-device", "VGA,vgamem_mb=" + (r.size() >> 20)));
            }
        }
        SnapshotRegion main = reader.regions().stream().max(java.util.Comparator.comparingLong(SnapshotRegion::size)).orElseThrow();
        args.addAll(List.of("-m", (main.size() >> 20) + "M"));
        args.addAll(deviceOptions(reader.origin().devices()));
        return new QemuFileLoad(file, offset, args, firmware, present);
    }

    /**
     * The options that give QEMU the devices of {@code devices} which QEMU's default-less machine lacks, and which it
     * refuses to load a file without ("Unknown savevm section or instance"): a serial port per {@code serial}
     * section, unconnected ({@code -serial null}: no guest code runs), and as many vCPUs as {@code cpu} sections.
     * Thaw's qemu runtime writes both; a file without them gets no option, as before.
     */
    static List<String> deviceOptions(List<SnapshotDevice> devices) {
        List<String> options = new ArrayList<>();
        long cpus = 0;
        for (SnapshotDevice d : devices) {
            switch (d.name()) {
                case SERIAL -> options.addAll(List.of("-serial", "null"));
                // each vCPU has both sections, instance i for vCPU i
                case CPU, CPU_COMMON -> cpus = Math.max(cpus, d.instance() + 1);
                default -> { }
            }
        }
        if (cpus > 1) {
            options.addAll(List.of("-smp", String.valueOf(cpus)));
        }
        return options;
    }

    /** One timed load in milliseconds, or null (with the reason in {@code notes}) when QEMU could not load it. */
    Double load(List<String> notes) {
        try {
            return RestoreBench.ms(QemuPeer.timeLoad(file, offset, machine));
        } catch (IOException | RuntimeException e) {
            notes.add("qemu row failed (QEMU started with " + String.join(" ", machine) + "): " + e.getMessage());
            return null;
        }
    }

    /** The bytes QEMU reads: every block's present pages. */
    long presentBytes() {
        return presentBytes;
    }

    String machine() {
        return String.join(" ", machine);
    }

    /** QEMU's options for the file's machine: what a destination QEMU that loads it is started with. */
    List<String> machineOptions() {
        return machine;
    }

    Path file() {
        return file;
    }

    long offset() {
        return offset;
    }

    void delete() {
        try {
            if (firmware != null) {
                Files.deleteIfExists(firmware);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path zeros(long size) {
        try {
            Path f = Files.createTempFile("thaw-bench-bios-", ".bin");
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(size);
            }
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot write a firmware file: " + e.getMessage(), e);
        }
    }
}
