package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.migration.ServeRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@code thaw:restore --serve} refuses beside it, before anything is opened or connected. */
class ServeCommandTest {

    @Test
    void theRestoreDefaultsConflictWithNothing() {
        assertEquals(List.of(), ServeCommand.conflicts(false, "", ""));
    }

    @Test
    void eachOptionThatMakesNoSenseForAServeIsNamedWithItsReason() {
        List<String> why = ServeCommand.conflicts(true, "vm9", "kvm");
        assertEquals(3, why.size(), why.toString());
        for (String option : List.of("--eager", "--name", "--runtime")) {
            assertTrue(why.stream().anyMatch(w -> w.startsWith(option + " (")), option + " in " + why);
        }
    }

    @Test
    void aServeReadsTheSnapshotsProfileOrWithRecordProfileRecordsIntoItInstead() {
        Path file = Path.of("/snapshots/fn.mr");
        Path profile = Path.of("/profiles/fn.mr.profile.json");
        ServeRequest reading = ServeCommand.request(file, 0, "unix:/run/dst.sock", "hot-page-first", profile, false);
        assertEquals(profile, reading.profile());
        assertNull(reading.recordProfileTo());
        ServeRequest recording = ServeCommand.request(file, 0, "unix:/run/dst.sock", "hot-page-first", profile, true);
        assertNull(recording.profile(), "a recording serve reads none, as a recording restore");
        assertEquals(profile, recording.recordProfileTo());
    }
}
