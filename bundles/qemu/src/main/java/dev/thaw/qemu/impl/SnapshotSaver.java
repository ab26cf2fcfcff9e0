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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
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
     * Saves the stopped {@code qemu} to {@code file} from byte {@code offset} on (the bytes before kept), with {@code unreadInput} (console input QEMU had not read) in its
     * session; the VM stays stopped.
     *
     * @throws SnapshotException naming the file and what failed (QEMU's reason among it)
     */
    SnapshotSummary save(QemuProcess qemu, Path file, long offset, BootRequest request, QemuMachine machine,
            SessionState session, byte[] unreadInput, Progress progress) throws IOException {
        long start = System.nanoTime();
        Path target = file.toAbsolutePath();
        Path part = target.resolveSibling("." + target.getFileName() + ".part");
        try {
            Files.deleteIfExists(part);
            if (offset > 0) {
                keepPrefix(target, part, offset);
            }
            QmpClient qmp = qemu.qmp();
            qmp.execute("migrate-set-capabilities", Map.of("capabilities", List.of(
                    Map.of("capability", "mapped-ram", "state", true), Map.of("capability", "postcopy-ram", "state", false))));
            qmp.execute("migrate", Map.of("uri", uri(part, offset)));
            awaitSaved(qemu, qmp, target, progress);
            SnapshotSummary summary;
            String machineType;
            try (SnapshotReader reader = formats.open(part, offset)) {
                machineType = reader.origin().machine();
                long present = reader.regions().stream().mapToLong(SnapshotRegion::presentPages).sum();
                long zero = reader.regions().stream().mapToLong(SnapshotRegion::zeroPages).sum();
                long size = Files.size(part) - offset;
                // computed, as the Thaw writer does: mapped-ram leaves the pages it does not write as holes
                summary = new SnapshotSummary(size, size - zero * 4096, present, zero, System.nanoTime() - start);
            }
            SessionFile.describing(part, offset, request, machine.withType(machineType), session, unreadInput).writeFor(target);
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return summary;
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /** QEMU's migration URI of the stream at byte {@code offset} of {@code file}. */
    static String uri(Path file, long offset) {
        return "file:" + file + (offset == 0 ? "" : ",offset=" + offset);
    }

    /**
     * Starts {@code part} with the first {@code offset} bytes of {@code target} as they are (zeros past its end, or
     * all zeros where there is no such file yet), which QEMU's save at that offset leaves in place.
     */
    private static void keepPrefix(Path target, Path part, long offset) throws IOException {
        try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            if (Files.exists(target)) {
                try (FileChannel in = FileChannel.open(target, StandardOpenOption.READ)) {
                    long copied = 0;
                    long end = Math.min(offset, in.size());
                    while (copied < end) {
                        copied += in.transferTo(copied, end - copied, out);
                    }
                }
            }
            if (out.size() < offset) {
                out.write(ByteBuffer.allocate(1), offset - 1); // the rest of the prefix reads as zeros
            }
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
