package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** A spin loop (PAUSEs a few instructions apart) sleeps once it has spun a while; scattered PAUSEs never do. */
class PauseLoopTest {

    @Test
    void aSpinLoopSleepsAfterItsSpins() {
        try (TestCpu t = new TestCpu()) {
            t.put(TestCpu.CODE, 0xf3, 0x90, 0xeb, 0xfc); // spin: pause; jmp spin
            t.c.rip = TestCpu.CODE;
            t.cpu.run(2L * (PauseLoop.SPINS + 10));
            assertEquals(10, t.cpu.pauseLoop.sleeps(), "the PAUSEs after the first " + PauseLoop.SPINS);
        }
    }

    @Test
    void pausesFarApartDoNotSleep() {
        PauseLoop p = new PauseLoop();
        for (int k = 0; k < 2 * PauseLoop.SPINS; k++) {
            p.pause(k * (PauseLoop.GAP + 1));
        }
        assertEquals(0, p.sleeps());
    }
}
