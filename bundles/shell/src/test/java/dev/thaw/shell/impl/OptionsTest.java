package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Option values as typed, and the one-line refusals that name the option. */
class OptionsTest {

    @Test
    void aPercentIsAWholeNumberFrom1To100() {
        assertEquals(1, Options.percent("--write-percent", "1"));
        assertEquals(10, Options.percent("--write-percent", " 10 "));
        assertEquals(100, Options.percent("--write-percent", "100"));
    }

    @Test
    void aPercentOutside1To100OrNotANumberIsRefusedNamingTheOption() {
        for (String bad : new String[] {"0", "101", "-5", "4294967306"}) {
            assertEquals("--write-percent must be 1 to 100, not " + bad,
                    assertThrows(IllegalArgumentException.class, () -> Options.percent("--write-percent", bad)).getMessage());
        }
        assertEquals("--write-percent: '10%' is not a whole number",
                assertThrows(IllegalArgumentException.class, () -> Options.percent("--write-percent", "10%")).getMessage());
    }
}
