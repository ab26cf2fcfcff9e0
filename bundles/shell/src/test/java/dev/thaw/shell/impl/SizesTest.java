package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizesTest {

    @Test
    void parsesTheUnitsPeopleWrite() {
        assertEquals(4096, Sizes.parse("--x", "4096"));
        assertEquals(64L << 10, Sizes.parse("--x", "64K"));
        assertEquals(256L << 20, Sizes.parse("--x", "256M"));
        assertEquals(256L << 20, Sizes.parse("--x", "256MiB"));
        assertEquals(1L << 30, Sizes.parse("--x", "1g"));
        assertEquals(3L << 30, Sizes.parse("--x", "3GB"));
        assertEquals(2L << 40, Sizes.parse("--x", "2T"));
    }

    @Test
    void malformedSizesNameTheOptionAndTheText() {
        for (String bad : new String[] {"", "M", "12X", "-1G", "1.5G", "99999999999999999999", "0x10"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("--memory", bad), bad);
            assertTrue(e.getMessage().startsWith("--memory: "), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("--memory", "9000000000T"));
    }

    @Test
    void formatsExactly() {
        assertEquals("256 MiB", Sizes.format(256L << 20));
        assertEquals("1 GiB", Sizes.format(1L << 30));
        assertEquals("1536 MiB", Sizes.format(3L << 29));
        assertEquals("12345 B", Sizes.format(12345));
        assertEquals("0 B", Sizes.format(0));
    }

    @Test
    void approximatesInTheLargestUnitReached() {
        assertEquals("38.1 MiB", Sizes.approximate(39926577));
        assertEquals("8.0 GiB", Sizes.approximate(8595200791L));
        assertEquals("1023 B", Sizes.approximate(1023));
        assertEquals("1.0 KiB", Sizes.approximate(1024));
    }
}
