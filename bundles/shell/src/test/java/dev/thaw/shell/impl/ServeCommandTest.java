package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@code thaw:restore --serve} refuses beside it, before anything is opened or connected. */
class ServeCommandTest {

    @Test
    void theRestoreDefaultsConflictWithNothing() {
        assertEquals(List.of(), ServeCommand.conflicts(false, false, "", "", "0"));
    }

    @Test
    void eachOptionThatMakesNoSenseForAServeIsNamedWithItsReason() {
        List<String> why = ServeCommand.conflicts(true, true, "vm9", "kvm", "4");
        assertEquals(5, why.size(), why.toString());
        for (String option : List.of("--eager", "--record-profile", "--name", "--runtime", "--loader-threads")) {
            assertTrue(why.stream().anyMatch(w -> w.startsWith(option + " (")), option + " in " + why);
        }
        assertEquals(List.of("--loader-threads (one thread sends on the one migration connection)"),
                ServeCommand.conflicts(false, false, "", "", "2"));
    }
}
