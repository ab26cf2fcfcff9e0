package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.Workload;
import dev.thaw.testing.RequiresQemu;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files the qemu runtime must not restore, each refused with one line naming the file and the problem before any
 * QEMU starts ({@link SnapshotException}: thrown by the checks ahead of QEMU's start); and a file QEMU itself
 * refuses, whose message must carry QEMU's own reason. Nothing is left running and no VM listed.
 */
@RequiresQemu
@Timeout(120)
class QemuRefusalTest {

    static final Duration WAIT = Duration.ofSeconds(60);
    static final BootRequest REQUEST = new BootRequest("saved", 64L << 20, 1, Workload.FUNCTION, 3, 4L << 20,
            TouchOrder.SEQUENTIAL, 4096);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    final QemuPlatform platform = new QemuPlatform();
    Path file;

    /** One QEMU mapped-ram file with its session, saved by the runtime; each test damages a copy of it. */
    @BeforeEach
    void save() {
        file = dir.resolve("function.mr");
        Vm vm = platform.vms().boot(REQUEST, "qemu");
        vm.awaitLine("result ", 0, WAIT);
        vm.snapshot(file, false, Progress.NONE);
    }

    @AfterEach
    void nothingLeftRunning() {
        assertEquals(List.of(), platform.vms().list(), "no VM is listed after a refused restore");
        QemuLeftovers.assertNoneAfterClosing(platform);
    }

    @Test
    void aMappedRamFileWithoutItsSessionFileIsRefused() throws IOException {
        Files.delete(SessionFile.of(file));
        assertRefused(file, "was not saved by Thaw's qemu runtime");
    }

    @Test
    void aTruncatedMappedRamFileIsRefused() throws IOException {
        truncateKeepingItsSession(file, Files.size(file) / 2);
        assertRefused(file, "");
    }

    @Test
    void aSessionFileOfAnotherSnapshotIsRefused() throws IOException {
        Path other = dir.resolve("other.mr");
        Vm vm = platform.vms().boot(new BootRequest("other", 32L << 20, 1, Workload.FUNCTION, 3, 4L << 20,
                TouchOrder.SEQUENTIAL, 4096), "qemu");
        vm.awaitLine("result ", 0, WAIT);
        vm.snapshot(other, false, Progress.NONE);
        Files.copy(SessionFile.of(file), SessionFile.of(other), StandardCopyOption.REPLACE_EXISTING);
        assertRefused(other, "has changed since");
    }

    @Test
    void aSessionFileThatIsNotJsonIsRefused() throws IOException {
        Files.writeString(SessionFile.of(file), "{\"version\": 1, \"request\": [");
        assertRefused(SessionFile.of(file), "is not a session file");
    }

    @Test
    void aSessionFileNestedBeyondReasonIsRefused() throws IOException {
        Files.writeString(SessionFile.of(file), "[".repeat(100_000) + "]".repeat(100_000));
        assertRefused(SessionFile.of(file), "is not a session file");
    }

    @Test
    void aSessionFileLargerThanAnyIsRefusedUnread() throws IOException {
        try (RandomAccessFile huge = new RandomAccessFile(SessionFile.of(file).toFile(), "rw")) {
            huge.setLength(SessionFile.MAX_BYTES + 1); // sparse: nothing is written, and nothing must be read
        }
        assertRefused(SessionFile.of(file), "more than a session file holds");
    }

    @Test
    void aSessionFileWithImpossibleValuesIsRefused() throws IOException {
        editSession(s -> ((ObjectNode) s.get("machine")).put("vcpus", -1));
        assertRefused(SessionFile.of(file), "vcpus");
        editSession(s -> ((ObjectNode) s.get("machine")).put("vcpus", 1).put("memoryBytes", Long.MAX_VALUE));
        assertRefused(SessionFile.of(file), "whole MiB");
        editSession(s -> ((ObjectNode) s.get("machine")).put("memoryBytes", 64L << 20).put("type", (String) null));
        assertRefused(file, "its session file names null");
        editSession(s -> s.remove("request"));
        assertRefused(SessionFile.of(file), "lacks its request");
        editSession(s -> s.put("version", 3));
        assertRefused(SessionFile.of(file), "has layout version 3");
        editSession(s -> s.put("version", 2).remove("unreadInput"));
        assertRefused(SessionFile.of(file), "lacks its unreadInput");
        editSession(s -> s.put("unreadInput", "not base64 at all!"));
        assertRefused(SessionFile.of(file), "is not a session file");
    }

    @Test
    void aSessionFileOfAStreamAtAnotherOffsetIsRefused() throws IOException {
        editSession(s -> s.put("offset", 4096));
        assertRefused(file, "holds its session's stream at byte 4096");
    }

    @Test
    void aSessionFileNamingOtherMemoryIsRefused() throws IOException {
        editSession(s -> ((ObjectNode) s.get("machine")).put("memoryBytes", 128L << 20));
        assertRefused(file, "its session file " + (128L << 20));
    }

    /**
     * A file saved by a QEMU with a machine type this one lacks (a later QEMU's, say): the checks pass, and QEMU's
     * refusal must come back as its own reason, not the hint it prints after it.
     */
    @Test
    void aMachineTypeQemuLacksIsNamedWithQemusOwnReason() throws IOException {
        String type = JSON.readTree(SessionFile.of(file).toFile()).path("machine").path("type").asText(); // the file's, as saved
        String later = type.replaceFirst("\\d+\\.\\d+$", "99.0"); // e.g. pc-i440fx-10.0 -> pc-i440fx-99.0
        assertEquals(type.length(), later.length(), "a machine type of the same length keeps the file's layout: " + type);
        replaceInHeader(file, type, later);
        editSession(s -> ((ObjectNode) s.get("machine")).put("type", later));
        for (boolean eager : new boolean[] {true, false}) {
            RestoreOptions options = eager ? RestoreOptions.eager(file, "later") : RestoreOptions.lazy(file, "later", "sequential");
            VmException e = assertThrows(VmException.class, () -> platform.vms().restore(options, Progress.NONE));
            assertOneLine(e.getMessage());
            assertTrue(e.getMessage().contains("unsupported machine type") && e.getMessage().contains(later), e.getMessage());
            assertEquals(List.of(), QemuPlatform.qemusLeft());
        }
    }

    private void assertRefused(Path named, String problem) {
        for (boolean eager : new boolean[] {true, false}) {
            Path restored = named.getFileName().toString().endsWith(SessionFile.SUFFIX) ? file : named;
            RestoreOptions options = eager ? RestoreOptions.eager(restored, "refused") : RestoreOptions.lazy(restored, "refused", "none");
            SnapshotException e = assertThrows(SnapshotException.class, () -> platform.vms().restore(options, Progress.NONE));
            assertOneLine(e.getMessage());
            assertTrue(e.getMessage().startsWith(named + ": "), "names " + named + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(problem), "says " + problem + ": " + e.getMessage());
            assertEquals(List.of(), platform.vms().list());
            assertEquals(List.of(), QemuPlatform.qemusLeft());
        }
    }

    private static void assertOneLine(String message) {
        assertFalse(message.contains("\n"), "one line: " + message);
    }

    /** Cuts {@code snapshot} to {@code length}, its session file rewritten to match, as if saved so. */
    private static void truncateKeepingItsSession(Path snapshot, long length) throws IOException {
        try (RandomAccessFile cut = new RandomAccessFile(snapshot.toFile(), "rw")) {
            cut.setLength(length);
        }
        ObjectNode session = (ObjectNode) JSON.readTree(SessionFile.of(snapshot).toFile());
        session.put("snapshotBytes", Files.size(snapshot)).put("snapshotModified", Files.getLastModifiedTime(snapshot).toMillis());
        JSON.writeValue(SessionFile.of(snapshot).toFile(), session);
    }

    private void editSession(Consumer<ObjectNode> edit) throws IOException {
        Path session = SessionFile.of(file);
        ObjectNode json = (ObjectNode) JSON.readTree(session.toFile());
        edit.accept(json);
        JSON.writeValue(session.toFile(), json);
    }

    /** Replaces {@code from} with {@code to} (as long) in the file's first 4 KiB, keeping its modification time. */
    private static void replaceInHeader(Path snapshot, String from, String to) throws IOException {
        FileTime modified = Files.getLastModifiedTime(snapshot);
        try (RandomAccessFile f = new RandomAccessFile(snapshot.toFile(), "rw")) {
            byte[] head = new byte[4096];
            f.readFully(head);
            String text = new String(head, StandardCharsets.ISO_8859_1);
            int at = text.indexOf(from);
            assertTrue(at > 0, from + " in the header of " + snapshot);
            f.seek(at);
            f.write(to.getBytes(StandardCharsets.ISO_8859_1));
        }
        Files.setLastModifiedTime(snapshot, modified);
    }
}
