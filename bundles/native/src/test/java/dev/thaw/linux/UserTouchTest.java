package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class UserTouchTest {

    private static final long PAGE = 4096;

    @Test
    void readsTheFirstByteOfEachPageAndCountsTheZeros() {
        try (Mapping m = Mapping.anonymous(8 * PAGE, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS)) {
            for (long p : new long[] {0, 3, 4, 7}) {
                m.segment().set(ValueLayout.JAVA_BYTE, p * PAGE, (byte) (p + 1));
            }
            m.segment().set(ValueLayout.JAVA_BYTE, 5 * PAGE + 1, (byte) 9); // not a first byte: page 5 still counts

            assertEquals(4, UserTouch.readEach(m.address(), 8, PAGE), "pages 1, 2, 5 and 6 begin with zero");
            assertEquals(2, UserTouch.readEach(m.address() + PAGE, 2, PAGE), "pages 1 and 2 only");
            assertEquals(1, UserTouch.readEach(m.address() + 4 * PAGE, 2, 2 * PAGE), "pages 4 and 6");
            assertEquals(0, UserTouch.readEach(m.address(), 0, PAGE), "no page");
        }
    }
}
