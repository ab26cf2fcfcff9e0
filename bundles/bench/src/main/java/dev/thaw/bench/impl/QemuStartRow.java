package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchRow;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's own start-up, beside the rows of the qemu runtime: a QEMU for the snapshot's machine, started as
 * {@link QemuFileLoad} starts one for a file, with {@code -incoming defer}; from starting the process to its
 * monitor's answer to {@code qmp_capabilities}. A restore that takes a spare incoming QEMU (the runtime's
 * {@code spareMachines}) does not wait for it; one without a spare does, eager and lazy alike.
 */
final class QemuStartRow implements PeerRow {

    static final String MODE = "qemu-start";

    private final QemuFileLoad load;
    private final List<Double> starts = new ArrayList<>();
    /** Why there is no row, or null. */
    private String missing;

    private QemuStartRow(QemuFileLoad load, String missing) {
        this.load = load;
        this.missing = missing;
    }

    /** Reads the snapshot's machine, or notes why there will be no row. */
    static QemuStartRow prepare(SnapshotFormats formats, Path snapshot) {
        List<String> why = new ArrayList<>();
        try (SnapshotReader reader = formats.open(snapshot)) {
            QemuFileLoad load = QemuFileLoad.prepare(reader, snapshot, 0, why);
            return new QemuStartRow(load, load == null ? MODE + " row skipped: " + String.join("; ", why)
                    .replaceFirst("^qemu row skipped: ", "") : null);
        }
    }

    @Override
    public void measure(boolean counted) {
        if (missing != null) {
            return;
        }
        List<String> args = new ArrayList<>(load.machineOptions());
        args.addAll(List.of("-incoming", "defer"));
        try (QemuProcess qemu = new QemuProcess(args)) {
            if (counted) {
                starts.add(RestoreBench.ms(qemu.startUp()));
            }
        } catch (IOException | RuntimeException e) {
            missing = MODE + " row failed (QEMU started with " + load.machine() + "): " + e.getMessage();
        }
    }

    @Override
    public BenchRow row(List<String> notes) {
        delete();
        if (missing != null) {
            notes.add(missing);
            return new BenchRow(MODE, null, null, null, null, null, null, null, null, null, null, null, null, null, missing);
        }
        return new BenchRow(MODE, Median.of(starts), null, null, null, null, null, null, null, null, null, null, null, null,
                "QEMU " + QemuPeer.version() + "'s own start-up (in RESUME): " + load.machine() + " -incoming defer, from "
                        + "starting the process to its monitor's answer; a restore that takes a spare incoming QEMU skips it");
    }

    @Override
    public void delete() {
        if (load != null) {
            load.delete();
        }
    }
}
