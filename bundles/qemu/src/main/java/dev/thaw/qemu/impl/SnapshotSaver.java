package dev.thaw.qemu.impl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SessionState;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.api.snapshot.SnapshotSummary;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.support.qemu.QmpClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Saves a stopped QEMU with QEMU's own migration to a mapped-ram file: written beside the target, its session file
 * written for it, then renamed into place, so that a failed save leaves the file there before untouched.
 */
final class SnapshotSaver {

    /** How long a save may take: QEMU writes guest RAM at disk speed, and a large guest on a slow disk takes minutes. */
    static final Duration SAVE_TIMEOUT = Duration.ofMinutes(10);

    private final SnapshotFormats formats;

    SnapshotSaver(SnapshotFormats formats) {
        this.formats = formats;
    }

    /**
     * Saves the stopped {@code qemu} to {@code file}, with {@code unreadInput} (console input QEMU had not read) in its
     * session; the VM stays stopped.
     *
     * @throws SnapshotException naming the file and what failed (QEMU's reason among it)
     */
    SnapshotSummary save(QemuProcess qemu, Path file, BootRequest request, QemuMachine machine, SessionState session,
            byte[] unreadInput, Progress progress) throws IOException {
        long start = System.nanoTime();
        Path target = file.toAbsolutePath();
        Path part = target.resolveSibling("." + target.getFileName() + ".part");
        try {
            Files.deleteIfExists(part);
            QmpClient qmp = qemu.qmp();
            qmp.execute("migrate-set-capabilities", Map.of("capabilities", List.of(
                    Map.of("capability", "mapped-ram", "state", true), Map.of("capability", "postcopy-ram", "state", false))));
            qmp.execute("migrate", Map.of("uri", "file:" + part));
            awaitSaved(qemu, qmp, target, progress);
            SnapshotSummary summary;
            String machineType;
            try (SnapshotReader reader = formats.open(part)) {
                machineType = reader.origin().machine();
                long present = reader.regions().stream().mapToLong(SnapshotRegion::presentPages).sum();
                long zero = reader.regions().stream().mapToLong(SnapshotRegion::zeroPages).sum();
                long size = Files.size(part);
                // computed, as the Thaw writer does: mapped-ram leaves the pages it does not write as holes
                summary = new SnapshotSummary(size, size - zero * 4096, present, zero, System.nanoTime() - start);
            }
            SessionFile.describing(part, request, machine.withType(machineType), session, unreadInput).writeFor(target);
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return summary;
        } finally {
            Files.deleteIfExists(part);
        }
    }

    private static void awaitSaved(QemuProcess qemu, QmpClient qmp, Path file, Progress progress) {
        long deadline = System.nanoTime() + SAVE_TIMEOUT.toNanos();
        while (true) {
            JsonNode state = qmp.execute("query-migrate");
            String status = state.path("status").asText();
            JsonNode ram = state.path("ram");
            long total = ram.path("total").asLong();
            switch (status) {
                case "completed" -> {
                    progress.update(total, total);
                    return;
                }
                case "failed", "cancelled" -> throw new SnapshotException(file, "QEMU could not save it: "
                        + state.path("error-desc").asText(status));
                default -> {
                    progress.update(ram.path("transferred").asLong(), total);
                    if (System.nanoTime() > deadline) {
                        qmp.execute("migrate_cancel");
                        throw new SnapshotException(file, "QEMU had not saved it after " + SAVE_TIMEOUT.toMinutes() + " min");
                    }
                    if (!qemu.alive()) {
                        throw new SnapshotException(file, "QEMU ended while saving it: " + qemu.lastStderrLine());
                    }
                    try {
                        Thread.sleep(2); // query-migrate is the only word of the end without the events capability
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        qmp.execute("migrate_cancel");
                        throw new SnapshotException(file, "interrupted while QEMU saved it");
                    }
                }
            }
        }
    }
}
