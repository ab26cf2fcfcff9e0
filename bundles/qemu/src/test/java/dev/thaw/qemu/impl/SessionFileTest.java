package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.SessionState;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Workload;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The session file's boot request as written and read back, without QEMU: a request with a resident set keeps it,
 * and a file written before requests had one reads as the working set alone; likewise a write percent, absent from
 * older files, reads as 100.
 */
class SessionFileTest {

    static final BootRequest RESIDENT = new BootRequest("saved", 256L << 20, 1, Workload.FUNCTION, 42, 32L << 20,
            TouchOrder.SEQUENTIAL, 4096, 128L << 20);
    static final QemuMachine MACHINE = new QemuMachine("pc-i440fx-10.0", 256L << 20, 1, 3L << 30);
    static final SessionState SESSION = new SessionState("result function dda45d54f26733b0\n", 33, 1, 0);

    @TempDir
    Path dir;

    @Test
    void theRequestRoundTripsWithItsResidentSet() throws Exception {
        Path snapshot = snapshot();
        SessionFile.describing(snapshot, 4096, RESIDENT, MACHINE, SESSION, new byte[] {'i', '\n'}).writeFor(snapshot);
        SessionFile read = SessionFile.readFor(snapshot, 4096);
        assertEquals(4096, read.offset());
        assertEquals(RESIDENT, read.request());
        assertEquals(MACHINE, read.machine());
        assertEquals(SESSION, read.session());
        assertArrayEquals(new byte[] {'i', '\n'}, read.unreadInputOrNone());
    }

    @Test
    void aRequestWrittenBeforeTheResidentSetKeepsTheWorkingSetAlone() throws Exception {
        Path snapshot = snapshot();
        SessionFile.describing(snapshot, 0, RESIDENT, MACHINE, SESSION, new byte[0]).writeFor(snapshot);
        Path file = SessionFile.of(snapshot);
        String json = Files.readString(file);
        String field = ",\"residentBytes\":" + (128L << 20);
        assertTrue(json.contains(field), json);
        Files.writeString(file, json.replace(field, ""), StandardCharsets.UTF_8);
        BootRequest read = SessionFile.readFor(snapshot, 0).request();
        assertEquals(BootRequest.RESIDENT_AS_WORKING_SET, read.residentBytes());
        assertEquals(new BootRequest("saved", 256L << 20, 1, Workload.FUNCTION, 42, 32L << 20, TouchOrder.SEQUENTIAL, 4096), read);
    }

    @Test
    void aRequestWrittenBeforeTheWritePercentWritesEveryPageItReads() throws Exception {
        Path snapshot = snapshot();
        BootRequest writing = new BootRequest("saved", 256L << 20, 1, Workload.FUNCTION, 42, 32L << 20, TouchOrder.SEQUENTIAL, 4096,
                BootRequest.RESIDENT_AS_WORKING_SET, 10);
        SessionFile.describing(snapshot, 0, writing, MACHINE, SESSION, new byte[0]).writeFor(snapshot);
        assertEquals(writing, SessionFile.readFor(snapshot, 0).request());
        Path file = SessionFile.of(snapshot);
        String json = Files.readString(file);
        String field = ",\"writePercent\":10";
        assertTrue(json.contains(field), json);
        Files.writeString(file, json.replace(field, ""), StandardCharsets.UTF_8);
        BootRequest read = SessionFile.readFor(snapshot, 0).request();
        assertEquals(BootRequest.WRITE_ALL, read.writePercent());
        assertEquals(new BootRequest("saved", 256L << 20, 1, Workload.FUNCTION, 42, 32L << 20, TouchOrder.SEQUENTIAL, 4096), read);
    }

    /** A stand-in for the snapshot: the session file names only its length and modification time. */
    private Path snapshot() throws Exception {
        Path snapshot = dir.resolve("function.mr");
        Files.write(snapshot, new byte[4096]);
        Files.setLastModifiedTime(snapshot, FileTime.fromMillis(1_700_000_000_000L));
        return snapshot;
    }
}
