package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How a fleet's name and its members' ids are reserved beside the VMs already there. */
class FleetsTest {

    private final Fleets fleets = new Fleets();
    private final VmRegistry vms = new VmRegistry();

    @Test
    void anAutomaticNameSkipsOneWhoseMemberIdsAVmHolds() {
        vms.reserve("fleet1-2"); // a VM the user named so, restored on its own
        Fleets.Reservation fleet = fleets.reserve(null, 2, vms);
        assertEquals("fleet2", fleet.name());
        assertEquals(List.of("fleet2-1", "fleet2-2"), fleet.members().stream().map(VmRegistry.Reservation::id).toList());
        assertTrue(vms.taken("fleet1-2"), "the user's VM keeps its id");
        assertFalse(vms.taken("fleet1-1"), "nothing is held for a name passed over");
    }

    @Test
    void anAutomaticNameTakesOneWhoseMembersAreFreeThoughALaterIdIsTaken() {
        vms.reserve("fleet1-3");
        assertEquals("fleet1", fleets.reserve(null, 2, vms).name(), "a fleet of 2 has no member fleet1-3");
    }

    @Test
    void aNameTheUserGivesIsStillRefusedWhenAMemberIdIsTaken() {
        vms.reserve("fleet1-1");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> fleets.reserve("fleet1", 2, vms));
        assertEquals("a VM named 'fleet1-1' exists already", refused.getMessage());
        assertFalse(vms.taken("fleet1-2"), "no member of the refused fleet is held");
        assertEquals("fleet2", fleets.reserve(null, 2, vms).name());
    }
}
