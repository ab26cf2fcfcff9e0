package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.vm.FleetInfo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code thaw:fleet}'s table and JSON: a problem with the snapshot file under a fleet is shown, in its one line. */
class FleetCommandsTest {

    static final String PROBLEM = "/snaps/a.thaw was truncated from 8192 to 4096 bytes under its shared fleet;"
            + " pages not yet in the fleet's cache fail";

    private static final List<FleetInfo> FLEETS = List.of(
            new FleetInfo("f", Path.of("/snaps/a.thaw"), true, List.of("f-1", "f-2"), 4096, 4096, 8192, Optional.of(PROBLEM)),
            new FleetInfo("g", Path.of("/snaps/b.thaw"), true, List.of("g-1"), 4096, 4096, 4096));

    @Test
    void theTableIsFollowedByEachFleetsProblemOnALineOfItsOwn() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FleetCommands.print(FLEETS, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.getFirst().startsWith("FLEET"), lines.getFirst());
        assertEquals("f: " + PROBLEM, lines.getLast());
    }

    @Test
    void theJsonCarriesTheProblemOrNull() {
        assertEquals(PROBLEM, FleetCommands.json(FLEETS.get(0)).get("problem"));
        assertTrue(FleetCommands.json(FLEETS.get(1)).containsKey("problem"));
        assertEquals(null, FleetCommands.json(FLEETS.get(1)).get("problem"));
    }
}
